"""Storage of the distribution records: reads by group, versioned writes, a run's lines.

Every record goes through `records.record_items` (versions, history, changed_by) except the
run's lines, which are immutable: one item each, like an ingested event, for the read API.
A run also keeps its lines in chunk items of up to 500 (`run_line_chunks`, internal), written
in the run's own transaction: the run's readers (approval, payment file, notices) read those
with consistent reads by key, never the eventually consistent index. A write that must be
all-or-nothing is one `TransactWriteItems` (at most 100 items); line items, which can be
rewritten identically, go by `BatchWriteItem` (25 a call, one write unit each).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from ledgerline import aws
from ledgerline.domain.category import RecordWrite, Ref
from ledgerline.domain.tables import DISTRIBUTION_LINES, RUN_LINE_CHUNKS
from ledgerline.settings import get_settings
from ledgerline.store import reads
from ledgerline.store.keys import current_key, index_keys, item_key, system_time
from ledgerline.store.records import (
    EventContext,
    batch_get,
    record_items,
    record_of,
    supersede,
    to_attributes,
    transact,
)

TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
BATCH_WRITE_ITEMS = 25  # DynamoDB's limit per BatchWriteItem
GROUP_PAGE = 1000
LINES_PER_CHUNK = 500  # about 30 KB an item, far below DynamoDB's 400 KB
# Write calls of one request in flight at once. Independent writes (other items) wait on
# DynamoDB concurrently; botocore releases the GIL while it waits, so this cuts the latency of
# a 10,000-line run or notice batch by about this factor, not its CPU time.
WRITERS = 8


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
    """The items of `writes` (`records.record_items`), after reading the current items they supersede."""
    writes = list(writes)
    supersede(context.tenant, writes)
    table = get_settings().records_table
    return [item for write in writes for item in record_items(table, context, write, now)]


def commit(context: EventContext, writes: Iterable[RecordWrite], extra: Iterable[dict[str, Any]] = ()) -> str:
    """One transaction: each write's version and current item (optimistic lock), plus `extra`."""
    now = system_time()
    transact([*version_items(context, writes, now), *extra])
    return now


def commit_in_chunks(context: EventContext, writes: list[RecordWrite], per: int,
                     extra: Iterable[dict[str, Any]] = ()) -> None:
    """`commit` `per` writes at a time, the transactions in parallel. Not all-or-nothing: after
    a failure some chunks may be stored, and the caller's retry (which reads again and writes
    only what is still missing) completes them."""
    checks = list(extra)
    in_parallel([lambda chunk=writes[start:start + per]: commit(context, chunk, checks)  # type: ignore[misc]
                 for start in range(0, len(writes), per)])


def in_parallel(tasks: list[Callable[[], Any]]) -> None:
    """Run independent write calls, at most `WRITERS` at once; the first failure is raised once
    every task has ended."""
    aws.dynamodb()  # the shared client is created before the threads use it
    if WRITERS == 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=min(WRITERS, len(tasks)), thread_name_prefix="writer") as pool:
        futures = [pool.submit(task) for task in tasks]
    for future in futures:
        future.result()


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


def _line_item(context: EventContext, line: dict[str, Any], now: str) -> dict[str, Any]:
    """The one immutable item of a line, its record version 1, stamped `now`."""
    record = {**line, "version": 1, "created_at": now, "updated_at": now, "deleted": False}
    return {
        **current_key(context.tenant, DISTRIBUTION_LINES, line["line_id"]),
        **to_attributes({
            "tenant": context.tenant, "table": DISTRIBUTION_LINES, "id": line["line_id"], "version": 1,
            "record": record, "changed_by": context.changed_by, "event_id": context.event_id,
            **index_keys(context.tenant, DISTRIBUTION_LINES, line["line_id"], record, now),
        }),
    }


def line_puts(context: EventContext, lines: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """Transaction puts of lines, each created once."""
    table = get_settings().records_table
    return [{"Put": {"TableName": table, "Item": _line_item(context, line, now),
                     "ConditionExpression": "attribute_not_exists(PK)"}} for line in lines]


def write_lines(context: EventContext, lines: list[dict[str, Any]], now: str) -> None:
    """Write lines by BatchWriteItem. A line's id and content are fixed by its run (the same
    `context` and `now` each time), so writing it again after a crash rewrites the same item."""
    client, table = aws.dynamodb(), get_settings().records_table
    requests = [{table: [{"PutRequest": {"Item": _line_item(context, line, now)}}
                         for line in lines[start:start + BATCH_WRITE_ITEMS]]}
                for start in range(0, len(lines), BATCH_WRITE_ITEMS)]
    in_parallel([lambda request=request: _batch_write(client, request) for request in requests])  # type: ignore[misc]


def _batch_write(client: Any, request: dict[str, Any]) -> None:
    delay = 0.02
    while request:
        request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        if request:
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


_LINE_FIELDS = ("holder_id", "units", "ownership_percentage", "amount")


def chunk_puts(context: EventContext, run_id: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transaction puts of a run's lines in chunks of `LINES_PER_CHUNK` (holder_id, units,
    ownership_percentage, amount as text, exact), with the calculating request's id."""
    table = get_settings().records_table
    puts = []
    for number, start in enumerate(range(0, len(lines), LINES_PER_CHUNK)):
        rows = [[str(line[name]) for name in _LINE_FIELDS] for line in lines[start:start + LINES_PER_CHUNK]]
        puts.append({"Put": {"TableName": table, "Item": {
            **item_key(context.tenant, RUN_LINE_CHUNKS, chunk_id(run_id, number)),
            "lines": {"S": json.dumps(rows, separators=(",", ":"))},
            "request_id": {"S": context.event_id},
        }, "ConditionExpression": "attribute_not_exists(PK)"}})
    return puts


def chunk_count(line_count: int) -> int:
    return -(-line_count // LINES_PER_CHUNK)


def chunk_id(run_id: str, number: int) -> str:
    return f"{run_id}:{number:04d}"


def run_lines(tenant: str, run: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """A run's lines, in the order they were calculated, and the calculating request's id:
    consistent reads of its chunk items (one BatchGetItem per 100 chunks)."""
    ids = [chunk_id(run["run_id"], n) for n in range(chunk_count(int(run["line_count"])))]
    found = batch_get(tenant, [Ref(RUN_LINE_CHUNKS, chunk) for chunk in ids])
    chunks = {ref.id: item for ref, item in found.items()}
    missing = [chunk for chunk in ids if chunks[chunk] is None]
    if missing:
        raise LookupError(f"run {run['run_id']} lacks line chunks {missing}")
    lines = []
    for chunk in ids:
        for holder_id, units, percentage, amount in json.loads(chunks[chunk]["lines"]):  # type: ignore[index]
            lines.append({"line_id": f"{run['run_id']}:{holder_id}", "run_id": run["run_id"],
                          "asset_id": run["asset_id"], "holder_id": holder_id, "units": Decimal(units),
                          "ownership_percentage": Decimal(percentage), "amount": Decimal(amount),
                          "currency": run["currency"]})
    request_id = chunks[ids[0]]["request_id"] if ids else ""  # type: ignore[index]
    return lines, request_id


def transact_in_chunks(items: list[dict[str, Any]]) -> int:
    """Write `items` in transactions of at most 100; returns how many transactions it took."""
    count = 0
    for start in range(0, len(items), TRANSACTION_ITEMS):
        transact(items[start:start + TRANSACTION_ITEMS])
        count += 1
    return count
