"""The outbox: an outgoing event written with the row it announces, then recorded as published
(its outgoing_events row created once, the outbox item deleted) in one transaction."""

from __future__ import annotations

from typing import Any

from ledgerline import aws
from ledgerline.domain.category import RecordWrite
from ledgerline.domain.tables import OUTBOX, OUTGOING_EVENTS
from ledgerline.events.outgoing import Outgoing, log_record
from ledgerline.settings import get_settings
from ledgerline.store.derived.rows import WORKER
from ledgerline.store.keys import current_key, item_key
from ledgerline.store.records import AlreadyWritten, EventContext, WriteConflict, record_items, to_attributes, transact


def outbox_key(tenant: str, event_id: str) -> dict[str, dict[str, str]]:
    return item_key(tenant, OUTBOX, event_id)


def outbox_put(event: Outgoing, now: str) -> dict[str, Any]:
    """The outbox item of an event, written in the same transaction as the row it announces."""
    return {"Put": {
        "TableName": get_settings().records_table,
        "Item": {**outbox_key(event.tenant, event.event_id), **to_attributes({**event.as_item(), "created_at": now})},
        "ConditionExpression": "attribute_not_exists(PK)",
    }}


def is_published(tenant: str, event_id: str) -> bool:
    item = aws.dynamodb().get_item(
        TableName=get_settings().records_table, Key=current_key(tenant, OUTGOING_EVENTS, event_id), ConsistentRead=True,
        ProjectionExpression="PK",
    ).get("Item")
    return item is not None


def record_published(events: list[Outgoing], published_at: str) -> list[Outgoing]:
    """For each event, its outgoing_events row (created once) and the end of its outbox item,
    in one transaction per 30 events; returns the events recorded by this call.

    An event recorded before (a replay, or the stream and the inline path racing) is skipped.
    """
    recorded: list[Outgoing] = []
    for start in range(0, len(events), 30):  # 3 items each, at most 100 per transaction
        chunk = events[start:start + 30]
        items = [item for event in chunk for item in _published_items(event, published_at)]
        try:
            transact(items)
            recorded += chunk
        except (WriteConflict, AlreadyWritten):
            if len(chunk) == 1:
                continue  # its row exists: recorded before
            recorded += record_published_one_by_one(chunk, published_at)
    return recorded


def record_published_one_by_one(events: list[Outgoing], published_at: str) -> list[Outgoing]:
    recorded = []
    for event in events:
        try:
            transact(_published_items(event, published_at), already_done_index=1)
            recorded.append(event)
        except AlreadyWritten:
            continue
    return recorded


def _published_items(event: Outgoing, published_at: str) -> list[dict[str, Any]]:
    record = log_record(event, published_at)
    context = EventContext(event.tenant, event.cause["event_id"], WORKER, published_at)
    write = RecordWrite(OUTGOING_EVENTS, event.event_id, record, 0, sorted(record))
    return [*record_items(get_settings().records_table, context, write, published_at),
            {"Delete": {"TableName": get_settings().records_table, "Key": outbox_key(event.tenant, event.event_id)}}]


