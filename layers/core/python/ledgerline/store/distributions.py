"""Storage of the distribution records: reads by group, versioned writes, a run's lines in chunks.

Every record goes through `records.record_items` (versions, history, changed_by) except the
run's lines, which are immutable: one item each, like an ingested event. A write that must
be all-or-nothing is one `TransactWriteItems` (at most 100 items).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledgerline import aws
from ledgerline.domain.category import RecordWrite, Ref
from ledgerline.domain.tables import DISTRIBUTION_LINES
from ledgerline.settings import get_settings
from ledgerline.store import reads
from ledgerline.store.keys import current_key, index_keys, item_key, system_time
from ledgerline.store.records import EventContext, batch_get, record_items, record_of, to_attributes, transact

TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
GROUP_PAGE = 1000


def group(tenant: str, table: str, group_id: str) -> list[dict[str, Any]]:
    """Every current record of one group (an asset's holders, a run's lines), from the owner index.

    The index is eventually consistent: a run's readers check the line count they get against
    the count stored on the run.
    """
    found: list[dict[str, Any]] = []
    last_key = None
    while True:
        page = reads.list_records(tenant, table, limit=GROUP_PAGE, start_key=last_key, group=group_id)
        found += page.items
        last_key = page.last_key
        if not last_key:
            return found


def current(tenant: str, table: str, ids: Iterable[str]) -> dict[str, dict[str, Any] | None]:
    """Current records by id (consistent reads, 100 a call); None for an id the tenant lacks."""
    items = batch_get(tenant, [Ref(table, record_id) for record_id in ids])
    return {ref.id: record_of(item) for ref, item in items.items()}


def one(tenant: str, table: str, record_id: str) -> dict[str, Any] | None:
    return reads.get_record(tenant, table, record_id)


def version_items(context: EventContext, writes: Iterable[RecordWrite], now: str) -> list[dict[str, Any]]:
    table = get_settings().records_table
    return [item for write in writes for item in record_items(table, context, write, now)]


def commit(context: EventContext, writes: Iterable[RecordWrite], extra: Iterable[dict[str, Any]] = ()) -> str:
    """One transaction: each write's version and current item (optimistic lock), plus `extra`."""
    now = system_time()
    transact([*version_items(context, writes, now), *extra])
    return now


def guard_put(tenant: str, table: str, guard_id: str, holder: str) -> dict[str, Any]:
    """Claim a guard item; fails (a conflict) when someone holds it."""
    return {"Put": {
        "TableName": get_settings().records_table,
        "Item": {**item_key(tenant, table, guard_id), "holder": {"S": holder}},
        "ConditionExpression": "attribute_not_exists(PK)",
    }}


def guard_delete(tenant: str, table: str, guard_id: str, holder: str) -> dict[str, Any]:
    return {"Delete": {
        "TableName": get_settings().records_table, "Key": item_key(tenant, table, guard_id),
        "ConditionExpression": "#h = :h",
        "ExpressionAttributeNames": {"#h": "holder"}, "ExpressionAttributeValues": {":h": {"S": holder}},
    }}


def line_puts(context: EventContext, lines: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """One immutable item per line, its record version 1, created once."""
    table = get_settings().records_table
    puts = []
    for line in lines:
        record = {**line, "version": 1, "created_at": now, "updated_at": now, "deleted": False}
        puts.append({"Put": {
            "TableName": table,
            "Item": {
                **current_key(context.tenant, DISTRIBUTION_LINES, line["line_id"]),
                **to_attributes({
                    "tenant": context.tenant, "table": DISTRIBUTION_LINES, "id": line["line_id"], "version": 1,
                    "record": record, "changed_by": context.changed_by, "event_id": context.event_id,
                    **index_keys(context.tenant, DISTRIBUTION_LINES, line["line_id"], record, now),
                }),
            },
            "ConditionExpression": "attribute_not_exists(PK)",
        }})
    return puts


def transact_in_chunks(items: list[dict[str, Any]]) -> int:
    """Write `items` in transactions of at most 100; returns how many transactions it took."""
    count = 0
    for start in range(0, len(items), TRANSACTION_ITEMS):
        transact(items[start:start + TRANSACTION_ITEMS])
        count += 1
    return count


def delete_lines(tenant: str, line_ids: list[str]) -> None:
    """Remove the lines of a run whose own transaction was refused (written ahead of it)."""
    client, table = aws.dynamodb(), get_settings().records_table
    for start in range(0, len(line_ids), 25):
        request = {table: [{"DeleteRequest": {"Key": item_key(tenant, DISTRIBUTION_LINES, line_id)}}
                           for line_id in line_ids[start:start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
