"""Derived rows: the items of a new row or of a recomputed row's next version, and their commit."""

from __future__ import annotations

from typing import Any

from ledgerline.domain.category import RecordWrite, changed_fields
from ledgerline.domain.derive.common import Row
from ledgerline.settings import get_settings
from ledgerline.store.records import EventContext, record_items, transact

WORKER = "worker"  # `changed_by` of every derived version


def row_items(
    tenant: str, row: Row, event_id: str, valid_from: str, previous: dict[str, Any] | None, now: str
) -> list[dict[str, Any]]:
    """The items of a derived row: new (`previous` None, created once) or the next version of
    `previous` (the stored current item, decoded, whose version is the optimistic lock). A
    statement's next version is its current item and the own item of the version it supersedes
    (`records.record_items`); a row of a table whose rows never change is one item.

    The version is valid from the row's own `valid_from` when it has one, else `valid_from`.
    """
    context = EventContext(tenant, event_id, WORKER, row.record.get("valid_from") or valid_from)
    if previous is None:
        write = RecordWrite(row.table, row.id, row.record, 0, sorted(row.record))
    else:
        stored = previous["record"]
        record = {**row.record, "created_at": stored.get("created_at"), "updated_at": stored.get("updated_at")}
        write = RecordWrite(row.table, row.id, record, int(previous["version"]), changed_fields(stored, row.record),
                            superseded=previous)
    return record_items(get_settings().records_table, context, write, now)


def commit(items: list[dict[str, Any]], already_done_index: int | None = None) -> None:
    """One TransactWriteItems (records.transact: WriteConflict, AlreadyWritten)."""
    transact(items, already_done_index=already_done_index)
