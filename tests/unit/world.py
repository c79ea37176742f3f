"""An in-memory store for domain tests: loads what `references()` asks for and applies decisions
the way the ingest use case does (records, client link counters, installment guards)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ledgerline.domain.category import RECORD_META, Category, Decision
from ledgerline.domain.errors import DomainError


class World:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.links: Counter[str] = Counter()

    def send(self, category: Category, payload: dict[str, Any]) -> Decision:
        parsed = category.parse(payload)
        current = self.items.get((category.table, parsed.record_id))
        loaded = {ref: self.items.get((ref.table, ref.id)) for ref in category.references(parsed, current)}
        links = self.links[parsed.record_id] if category.table == "clients" else 0
        decision = category.decide(parsed, current, loaded, links)
        for write in decision.writes:
            self.items[(write.table, write.id)] = {**write.record, "version": write.previous_version + 1}
        for client_id, delta in decision.client_links.items():
            self.links[client_id] += delta
        for guard in decision.guards:
            if guard.holder is None:
                self.items.pop((guard.ref.table, guard.ref.id), None)
            else:
                self.items[(guard.ref.table, guard.ref.id)] = {"payment_id": guard.holder}
        return decision

    def record(self, table: str, record_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.items[(table, record_id)].items() if k not in RECORD_META}

    def holder(self, disbursement_id: str, number: int) -> str | None:
        return (self.items.get(("installments", f"{disbursement_id}~{number}")) or {}).get("payment_id")


def refused(call: Any, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


def pairs(error: DomainError) -> set[tuple[str, str]]:
    """(field, code) of every violation."""
    return {(v.field, v.code) for v in error.violations}
