"""The ingest use case: validate an event, decide its change, commit it exactly once.

`validate` runs the same steps against the stored data and stops before the commit.

Called by the ingest handler inside Powertools' idempotency guard. Also safe without it:
the event id is derived from (tenant, Idempotency-Key) and its `ingested_events` row is
written in the same transaction as the data, so a retry after a crash finds the row and
answers from it instead of applying the event again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ledgerline.domain.category import Decision, Ref
from ledgerline.domain.envelope import DEPRECATED_FIELDS, IngestEvent, parse_event
from ledgerline.domain.errors import DomainError
from ledgerline.domain.jsonio import canonical
from ledgerline.domain.tables import INGESTED_EVENTS
from ledgerline.observability import count
from ledgerline.store import records
from ledgerline.store.records import AlreadyWritten, EventContext, Loaded
from ledgerline.store.retry import retry_on_conflict


@dataclass(frozen=True)
class IngestRequest:
    tenant: str
    key_id: str
    idempotency_key: str
    body: dict[str, Any]

    @property
    def event_id(self) -> str:
        digest = hashlib.sha256(f"{self.tenant}\n{self.idempotency_key}".encode()).hexdigest()
        return f"ev_{digest[:32]}"

    @property
    def body_sha256(self) -> str:
        return hashlib.sha256(canonical(self.body).encode("utf-8")).hexdigest()


def ingest(request: IngestRequest) -> dict[str, Any]:
    """Process one event; returns the response body or raises DomainError."""
    event = parse_event(request.body)
    parsed, category = event.parsed, event.category
    target = Ref(category.table, parsed.record_id)
    context = EventContext(request.tenant, request.event_id, request.key_id, event.effective_at,
                           event.effective_at_stated)

    def attempt() -> dict[str, Any]:
        loaded = records.load(request.tenant, request.event_id, target, category.references(parsed, None))
        if loaded.ingested:
            return replayed(loaded.ingested, request)
        decision = _decide(request.tenant, event, loaded)
        response = {
            "status": decision.outcome,
            "event_id": request.event_id,
            "category": category.name,
            "id": parsed.record_id,
            "step": _step(event, loaded),
            "version": decision.version,
            "warnings": parsed.warnings,
        }
        stored_request = {k: v for k, v in request.body.items() if k not in DEPRECATED_FIELDS}
        if isinstance(stored_request.get("data"), dict):
            stored_request["data"] = {k: v for k, v in stored_request["data"].items() if k not in DEPRECATED_FIELDS}
        ingested = {
            "event_id": request.event_id,
            "category": category.name,
            "record_table": category.table,
            "record_id": parsed.record_id,
            "step": response["step"],
            "status": decision.outcome,
            "record_version": decision.version,
            "effective_at": event.effective_at,
            "idempotency_key": request.idempotency_key,
            "key_id": request.key_id,
            "warnings": parsed.warnings,
            "request": stored_request,
        }
        try:
            records.commit(context, decision, target, ingested,
                           {"body_sha256": request.body_sha256, "response": response}, loaded.items)
        except AlreadyWritten:
            stored = records.batch_get(request.tenant, [Ref(INGESTED_EVENTS, request.event_id)])
            return replayed(next(iter(stored.values())), request)
        count(f"Events{decision.outcome}")
        return response

    return retry_on_conflict(attempt, lambda: DomainError(
        "conflict",
        f"{category.name} {parsed.record_id} is being changed by many requests at once; retry shortly.",
        retry_after=1,
    ))


def validate(tenant: str, body: dict[str, Any]) -> dict[str, Any]:
    """Check an event exactly as `ingest` would, against the stored data, and write nothing.

    Returns what ingest would do (`outcome`) or raises the DomainError ingest would raise.
    """
    event = parse_event(body)
    parsed, category = event.parsed, event.category
    target = Ref(category.table, parsed.record_id)
    loaded = records.load(tenant, None, target, category.references(parsed, None))
    decision = _decide(tenant, event, loaded)
    step = _step(event, loaded)
    return {
        "valid": True,
        "category": category.name,
        "id": parsed.record_id,
        "step": step,
        "outcome": step if decision.outcome == "Success" else "unchanged",
        "warnings": parsed.warnings,
    }


def _decide(tenant: str, event: IngestEvent, loaded: Loaded) -> Decision:
    """Load the references the current record points to, then decide the change."""
    parsed, category = event.parsed, event.category
    missing = [ref for ref in category.references(parsed, loaded.current) if ref not in loaded.refs]
    if missing:
        found = records.batch_get(tenant, missing)
        loaded.refs.update({ref: records.record_of(item) for ref, item in found.items()})
        loaded.items.update({ref: item for ref, item in found.items() if item is not None})
    return category.decide(parsed, loaded.current, loaded.refs, loaded.links)


def _step(event: IngestEvent, loaded: Loaded) -> str:
    """The step sent, or for create-or-update payloads the one the stored state implies."""
    return event.parsed.step or ("update" if loaded.current else "create")


def replayed(ingested: dict[str, Any], request: IngestRequest) -> dict[str, Any]:
    """Answer a retry of an event that was already committed, from its stored row."""
    if ingested.get("body_sha256") != request.body_sha256:
        raise DomainError(
            "idempotency-key-reused",
            "This Idempotency-Key was already used with a different body; use a new key for a new event.",
        )
    return {**ingested["response"], "status": "Duplicate"}
