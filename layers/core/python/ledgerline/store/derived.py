"""The worker's storage: per-disbursement state, derived rows, the outbox, the sweep's due queue.

Derived rows are ordinary records (current item + version item, written by
`records.record_items`), so the read API lists, reads and dates them like any other record.
Besides them the worker keeps three kinds of internal items, none of them readable:

| item | PK | SK | what for |
| --- | --- | --- | --- |
| outbox | `T#{tenant}#outbox#{event_id}` | `outbox` | an event written with its row, waiting to be published |
| due entry | `DUE#{yyyy-mm-dd}#{shard}` | `T#{tenant}#{disbursement_id}` | the sweep looks at the disbursement once that day has passed |
| sweep watermark | `SWEEP#state` | `watermark` | the last due day a complete sweep processed |
| attempt counter | (idempotency table) `worker#attempts#{stream event id}` | | deliveries of a failing stream record, expires after 2 days |

The due queue and the watermark are the keys that do not start with the tenant: the sweep reads it across
tenants, by day, and nothing a partner sends can reach it (reads always build `T#{tenant}#...`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from ledgerline.domain.category import RecordWrite, Ref, changed_fields
from ledgerline.domain.derive.common import Row
from ledgerline.domain.tables import DISBURSEMENTS, OUTBOX, OUTGOING_EVENTS, PAYMENTS, STATEMENTS
from ledgerline.events.outgoing import Outgoing, log_record
from ledgerline.settings import get_settings
from ledgerline.store import aws
from ledgerline.store.keys import current_key, record_pk, version_sk
from ledgerline.store.records import (
    AlreadyIngested,
    EventContext,
    WriteConflict,
    batch_get,
    from_attributes,
    record_items,
    to_attributes,
    transact,
)
from ledgerline.store.schema import BY_DISBURSEMENT, OUTBOX_SK, PK, SK

WORKER = "worker"  # `changed_by` of every derived version
DUE_PREFIX = "DUE#"
SWEEP_SHARDS = 4  # due entries of one day spread over this many partitions
ATTEMPTS_TTL_SECONDS = 2 * 86_400


def _table() -> str:
    return get_settings().records_table


# per-disbursement state ------------------------------------------------------------------


def load_state(tenant: str, disbursement_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Consistent reads of the disbursement's current item and of its statements item (the lock)."""
    found = batch_get(tenant, [Ref(DISBURSEMENTS, disbursement_id), Ref(STATEMENTS, disbursement_id)])
    return found[Ref(DISBURSEMENTS, disbursement_id)], found[Ref(STATEMENTS, disbursement_id)]


def payments_of(tenant: str, disbursement_id: str) -> list[dict[str, Any]]:
    """Every payment of a disbursement (current records), from its item collection (GSI2)."""
    return [item["record"] for item in _collection(tenant, disbursement_id, PAYMENTS)]


def version_as_of(tenant: str, table: str, record_id: str, system_time: str) -> dict[str, Any] | None:
    """The record as it was at `system_time` (its newest version stored by then), or None."""
    request = {
        "TableName": _table(),
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :first AND :last",
        "FilterExpression": "#system <= :time",
        "ExpressionAttributeNames": {"#pk": PK, "#sk": SK, "#system": "system_from"},
        "ExpressionAttributeValues": {
            ":pk": {"S": record_pk(tenant, table, record_id)}, ":first": {"S": version_sk(1)},
            ":last": {"S": version_sk(9_999_999_999)}, ":time": {"S": system_time},
        },
        "ScanIndexForward": False,  # newest first: the first match is the one
        "ConsistentRead": True,
    }
    while True:
        response = aws.dynamodb().query(**request)
        if response.get("Items"):
            return from_attributes(response["Items"][0])["record"]
        if not response.get("LastEvaluatedKey"):
            return None
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _collection(tenant: str, disbursement_id: str, table: str) -> Iterator[dict[str, Any]]:
    request = {
        "TableName": _table(),
        "IndexName": BY_DISBURSEMENT.name,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :table)",
        "ExpressionAttributeNames": {"#pk": BY_DISBURSEMENT.partition_key, "#sk": BY_DISBURSEMENT.sort_key},
        "ExpressionAttributeValues": {":pk": {"S": f"T#{tenant}#D#{disbursement_id}"}, ":table": {"S": f"{table}#"}},
    }
    while True:
        response = aws.dynamodb().query(**request)
        yield from (from_attributes(item) for item in response.get("Items", []))
        if not response.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


# derived rows ------------------------------------------------------------------------------


def row_items(
    tenant: str, row: Row, event_id: str, valid_from: str, previous: dict[str, Any] | None, now: str
) -> list[dict[str, Any]]:
    """Version + current item of a derived row: new (`previous` None, created once) or the next
    version of `previous` (the stored record, whose version is the optimistic lock).

    The version is valid from the row's own `valid_from` when it has one, else `valid_from`.
    """
    context = EventContext(tenant, event_id, WORKER, row.record.get("valid_from") or valid_from)
    if previous is None:
        write = RecordWrite(row.table, row.id, row.record, 0, sorted(row.record))
    else:
        record = {**row.record, "created_at": previous.get("created_at"), "updated_at": previous.get("updated_at")}
        write = RecordWrite(row.table, row.id, record, int(previous["version"]), changed_fields(previous, row.record))
    return record_items(_table(), context, write, now)


def commit(items: list[dict[str, Any]], already_done_index: int | None = None) -> None:
    """One TransactWriteItems (records.transact: WriteConflict, AlreadyIngested)."""
    transact(items, already_done_index=already_done_index)


# outbox ------------------------------------------------------------------------------------


def outbox_key(tenant: str, event_id: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": record_pk(tenant, OUTBOX, event_id)}, SK: {"S": OUTBOX_SK}}


def outbox_put(event: Outgoing, now: str) -> dict[str, Any]:
    """The outbox item of an event, written in the same transaction as the row it announces."""
    return {"Put": {
        "TableName": _table(),
        "Item": {**outbox_key(event.tenant, event.event_id), **to_attributes({**event.as_item(), "created_at": now})},
        "ConditionExpression": "attribute_not_exists(PK)",
    }}


def is_published(tenant: str, event_id: str) -> bool:
    item = aws.dynamodb().get_item(
        TableName=_table(), Key=current_key(tenant, OUTGOING_EVENTS, event_id), ConsistentRead=True,
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
        except (WriteConflict, AlreadyIngested):
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
        except AlreadyIngested:
            continue
    return recorded


def _published_items(event: Outgoing, published_at: str) -> list[dict[str, Any]]:
    record = log_record(event, published_at)
    context = EventContext(event.tenant, event.cause["event_id"], WORKER, published_at)
    write = RecordWrite(OUTGOING_EVENTS, event.event_id, record, 0, sorted(record))
    return [*record_items(_table(), context, write, published_at),
            {"Delete": {"TableName": _table(), "Key": outbox_key(event.tenant, event.event_id)}}]


# the sweep's due queue ---------------------------------------------------------------------


def sweep_shard(tenant: str, disbursement_id: str) -> int:
    return int(hashlib.sha256(f"{tenant}\n{disbursement_id}".encode()).hexdigest()[:8], 16) % SWEEP_SHARDS


def due_key(due: date, tenant: str, disbursement_id: str) -> dict[str, dict[str, str]]:
    shard = sweep_shard(tenant, disbursement_id)
    return {PK: {"S": f"{DUE_PREFIX}{due.isoformat()}#{shard}"}, SK: {"S": f"T#{tenant}#{disbursement_id}"}}


def due_moves(before: date | None, after: date | None, tenant: str, disbursement_id: str) -> list[dict[str, Any]]:
    """Transaction items that move a disbursement's due entry from one day to another (or away)."""
    if before == after:
        return []
    items: list[dict[str, Any]] = []
    if before is not None:
        items.append({"Delete": {"TableName": _table(), "Key": due_key(before, tenant, disbursement_id)}})
    if after is not None:
        items.append({"Put": {"TableName": _table(), "Item": {
            **due_key(after, tenant, disbursement_id),
            **to_attributes({"tenant": tenant, "disbursement_id": disbursement_id, "due_day": after.isoformat()}),
        }}})
    return items


def due_on(due: date) -> Iterator[tuple[str, str]]:
    """(tenant, disbursement_id) of every due entry of one day, shard by shard."""
    for shard in range(SWEEP_SHARDS):
        request = {
            "TableName": _table(),
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": PK},
            "ExpressionAttributeValues": {":pk": {"S": f"{DUE_PREFIX}{due.isoformat()}#{shard}"}},
            "ConsistentRead": True,
        }
        while True:
            response = aws.dynamodb().query(**request)
            for item in response.get("Items", []):
                values = from_attributes(item)
                yield values["tenant"], values["disbursement_id"]
            if not response.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def drop_due(due: date, tenant: str, disbursement_id: str) -> None:
    aws.dynamodb().delete_item(TableName=_table(), Key=due_key(due, tenant, disbursement_id))


_WATERMARK_KEY = {PK: {"S": "SWEEP#state"}, SK: {"S": "watermark"}}


def swept_through() -> date | None:
    """The last due day a complete sweep has processed, or None before the first one."""
    item = aws.dynamodb().get_item(TableName=_table(), Key=_WATERMARK_KEY, ConsistentRead=True).get("Item")
    return date.fromisoformat(item["last_day"]["S"]) if item else None


def mark_swept_through(day: date) -> None:
    """Advance the watermark (never move it back: an older run finishing late changes nothing)."""
    try:
        aws.dynamodb().put_item(
            TableName=_table(),
            Item={**_WATERMARK_KEY, "last_day": {"S": day.isoformat()}},
            ConditionExpression="attribute_not_exists(PK) OR last_day < :day",
            ExpressionAttributeValues={":day": {"S": day.isoformat()}},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


# attempts of a failing stream record ---------------------------------------------------------


def _attempts_key(stream_event_id: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": f"worker#attempts#{stream_event_id}"}}


def count_failure(stream_event_id: str, reason: str) -> int:
    """Count one more failed delivery of a stream record; returns the count so far."""
    response = aws.dynamodb().update_item(
        TableName=get_settings().idempotency_table,
        Key=_attempts_key(stream_event_id),
        UpdateExpression="ADD #n :one SET #ttl = :ttl, #reason = :reason",
        ExpressionAttributeNames={"#n": "attempts", "#ttl": "expiration", "#reason": "last_reason"},
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":ttl": {"N": str(int(time.time()) + ATTEMPTS_TTL_SECONDS)},
            ":reason": {"S": reason[:1000]},
        },
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["attempts"]["N"])


def forget_failures(stream_event_id: str) -> None:
    aws.dynamodb().delete_item(TableName=get_settings().idempotency_table, Key=_attempts_key(stream_event_id))

