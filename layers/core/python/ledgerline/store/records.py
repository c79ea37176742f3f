"""Records with immutable versions in the single table: load what a decision needs, commit it atomically.

Two kinds of record, one writer each:
- a versioned record (`record_items`): a current item (SK `v0`: the record, its version, index
  keys, and everything its version says: valid and system time, who changed it, which fields)
  and one immutable item per version it superseded (SK `v0000000001`...). A version gets its
  own item when the next one supersedes it: a copy of the superseded current item, in the same
  transaction as the update, whose optimistic lock on that version makes the copy exact. So a
  record of n versions is n items, and a record created and never changed is one;
- a record that never gets a second version (`once_item`; `immutable` tables of the registry
  without `version_items`): one item, its current item, created once with
  `attribute_not_exists`, holding what its one version says. The read API reads it back as
  version 1 with a one-entry history (`store.reads.record_versions`).
One event = one `TransactWriteItems`: the versions, the current items under an optimistic
lock, parent checks, counters, guards and the `ingested_events` row, so a crash or a retry can
never apply an event twice or half.
"""

from __future__ import annotations

import base64
import binascii
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ledgerline import aws
from ledgerline.domain.category import Decision, RecordWrite, Ref
from ledgerline.domain.jsonio import dumps, loads
from ledgerline.domain.tables import CLIENTS, INGESTED_EVENTS, TABLES
from ledgerline.settings import get_settings
from ledgerline.store.keys import (
    INDEX_ATTRIBUTES,
    current_key,
    index_keys,
    item_key,
    record_pk,
    system_time,
    version_sk,
)

LINK_COUNTER = "open_disbursements"
STATED_EFFECTIVE_AT = "effective_at"  # on a current item whose last change stated its effective_at
# On a current item: its version has no item of its own yet. A current item written before
# current items held their version lacks it: its version has its item already.
HOLDS_VERSION = "holds_version"
CHANGES = "changes"  # the field names a version changed (on a current item: when not all of them)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


RECORD = "record"  # the attribute of an item that holds its public record


def to_attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    """An item's values; a record stored compressed (`stored_record`) comes back as its map."""
    return {k: _record_of(v) if k == RECORD else _deserializer.deserialize(v) for k, v in item.items()}


def stored_record(table: str, record: dict[str, Any]) -> dict[str, Any] | bytes:
    """A record as its item holds it: the map itself, or for a table of large records
    (`large_items` in the registry) its JSON compressed, which brings a statement or an event row
    of 1.5 to 2.5 KB under the 1 KB of one write unit, and an ingested event's row (the request
    it answers) to about a fifth of its request's size. Such a record is opaque to condition and
    filter expressions; `from_attributes` restores it."""
    if TABLES[table].large_items:
        return zlib.compress(dumps(record).encode("utf-8"), 9)
    return record


def _record_of(value: dict[str, Any]) -> Any:
    if "B" not in value:
        return _deserializer.deserialize(value)
    data = value["B"]
    try:  # a stream record delivered to Lambda holds binary values in base64
        compressed = base64.b64decode(data, validate=True) if isinstance(data, str) else bytes(data)
        return loads(zlib.decompress(compressed).decode("utf-8"))
    except (binascii.Error, zlib.error) as error:
        raise ValueError(f"stored record is not compressed JSON: {error}") from error


class WriteConflict(Exception):
    """Someone else changed an item this write depended on: reload and decide again."""


class AlreadyWritten(Exception):
    """A create-once item of the transaction exists (an event's ingested_events row, a derived
    row, an outgoing_events row): this write was committed before (crash, retry, replay)."""


@dataclass
class Loaded:
    ingested: dict[str, Any] | None  # the stored ingested_events item, when the event was committed before
    current: dict[str, Any] | None  # the target record
    links: int  # open disbursements linked to the target (clients)
    refs: dict[Ref, dict[str, Any] | None] = field(default_factory=dict)
    items: dict[Ref, dict[str, Any]] = field(default_factory=dict)  # the stored items read (target, refs)


@dataclass(frozen=True)
class EventContext:
    """Who sent the event and when it took effect; stamped on every version it writes."""

    tenant: str
    event_id: str
    changed_by: str
    valid_from: str | None  # None: the system time of the write
    effective_at_stated: bool = False  # valid_from is an effective_at the partner sent


def _table() -> str:
    return get_settings().records_table


def batch_get(tenant: str, refs: Iterable[Ref]) -> dict[Ref, dict[str, Any] | None]:
    """Consistent reads of current items (or guards), one BatchGetItem per 100 keys."""
    wanted = {record_pk(tenant, r.table, r.id): r for r in dict.fromkeys(refs)}
    found: dict[Ref, dict[str, Any] | None] = {ref: None for ref in wanted.values()}
    for item in get_items([item_key(tenant, ref.table, ref.id) for ref in wanted.values()]):
        found[wanted[item["PK"]["S"]]] = from_attributes(item)
    return found


def get_items(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored items (as DynamoDB returns them, in no order) of `keys`: consistent reads, one
    BatchGetItem per 100 keys, unprocessed keys retried with backoff. Absent items are left out."""
    client, table = aws.dynamodb(), _table()
    items: list[dict[str, Any]] = []
    delay = 0.02
    pending = list(keys)
    while pending:
        chunk, pending = pending[:100], pending[100:]
        request = {table: {"Keys": chunk, "ConsistentRead": True}}
        while request:
            response = client.batch_get_item(RequestItems=request)
            items += response["Responses"].get(table, [])
            request = response.get("UnprocessedKeys") or {}
            if request:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
    return items


def record_of(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The public record inside a current item (guards are returned whole)."""
    if item is None:
        return None
    return item.get("record", item)


def load(tenant: str, event_id: str | None, target: Ref, refs: Iterable[Ref]) -> Loaded:
    """The target, its references and (given an event id) the event's ingested_events row, in one read."""
    ingested_ref = Ref(INGESTED_EVENTS, event_id) if event_id else None
    items = batch_get(tenant, [*([ingested_ref] if ingested_ref else []), target, *refs])
    ingested = items.pop(ingested_ref) if ingested_ref else None
    target_item = items[target]
    return Loaded(
        ingested=ingested,
        current=record_of(target_item),
        links=int((target_item or {}).get(LINK_COUNTER, 0)),
        refs={ref: record_of(item) for ref, item in items.items() if ref != target},
        items={ref: item for ref, item in items.items() if item is not None},
    )


# commit -----------------------------------------------------------------------------------


def commit(
    context: EventContext,
    decision: Decision,
    target: Ref,
    ingested: dict[str, Any],
    ingested_meta: dict[str, Any],
    stored: dict[Ref, dict[str, Any]],
) -> str:
    """Write a decision and its ingested_events row in one transaction; returns the system time.

    `stored`: the current items the decision was made against (`Loaded.items`), which the
    versions it writes supersede.
    Raises WriteConflict when an optimistic lock or a condition failed (reload and retry) and
    AlreadyWritten when the event's ingested_events row already exists.
    """
    table = _table()
    now = system_time()
    items: list[dict[str, Any]] = []
    for write in decision.writes:
        write.superseded = stored.get(Ref(write.table, write.id))
        items += record_items(table, context, write, now)
    if decision.outcome == "Unchanged":
        items.append(_unchanged_check(table, context.tenant, target, decision.version))
    for ref in decision.parents:
        items.append(_parent_check(table, context.tenant, ref))
    for client_id, delta in sorted(decision.client_links.items()):
        items.append(_link_update(table, context.tenant, client_id, delta))
    for guard in decision.guards:
        items.append(_guard_write(table, context.tenant, guard.ref, guard.holder))
    if decision.require_no_links:
        _require_no_links(next(item for item in items if item.get("Update", {}).get("Key")
                               == current_key(context.tenant, target.table, target.id)))
    ingested_index = len(items)
    # The row's one version is told by its record (created_at, key_id, event_id): no version
    # attributes, which keeps it one write unit.
    items.append(once_item(table, context.tenant, INGESTED_EVENTS, context.event_id,
                           {**ingested, "deleted": False}, now, **ingested_meta))
    transact(items, already_done_index=ingested_index)
    return now


def transact(items: list[dict[str, Any]], already_done_index: int | None = None) -> None:
    """One TransactWriteItems. Raises WriteConflict when a condition failed or a concurrent
    transaction interfered (reload and retry), AlreadyWritten when the item at
    `already_done_index` (a put guarded by attribute_not_exists) was already there."""
    try:
        aws.dynamodb().transact_write_items(TransactItems=items)
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        codes = [reason.get("Code") for reason in error.response.get("CancellationReasons") or []]
        if already_done_index is not None and len(codes) > already_done_index \
                and codes[already_done_index] == "ConditionalCheckFailed":
            raise AlreadyWritten() from error
        if any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in codes) or not codes:
            raise WriteConflict(codes) from error
        raise


def once_item(
    table: str, tenant: str, record_table: str, record_id: str, record: dict[str, Any], now: str, **attributes: Any
) -> dict[str, Any]:
    """The Put of a record that is written once and never changes: its current item is its only
    item and its version 1, created with `attribute_not_exists` (a second write of the same id
    is refused, which makes redelivered writes no-ops). `attributes` are stored beside the
    record: what its version says (valid_from, system_from, changed_by, event_id) or metadata."""
    stored = {**record, "version": 1, "created_at": now, "updated_at": now}
    return {"Put": {
        "TableName": table,
        "Item": {
            **current_key(tenant, record_table, record_id),
            **to_attributes({
                "tenant": tenant, "table": record_table, "id": record_id, "version": 1,
                RECORD: stored_record(record_table, stored),
                **attributes, **index_keys(tenant, record_table, record_id, stored, now),
            }),
        },
        "ConditionExpression": "attribute_not_exists(PK)",
    }}


def put_once(put: dict[str, Any]) -> bool:
    """Write one `once_item` on its own (a conditional PutItem, no transaction); False when an
    item with its key was there already (written before: a redelivery, a replay)."""
    try:
        aws.dynamodb().put_item(**put["Put"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def record_items(table: str, context: EventContext, write: RecordWrite, now: str) -> list[dict[str, Any]]:
    """The items that write `write`: its current item and, when it supersedes a version, that
    version's own item; or the one item of a record of a table whose records never change
    (`version_items` False). A write that supersedes a version carries the current item it
    supersedes (`RecordWrite.superseded`, `supersede`)."""
    if not TABLES[write.table].version_items:
        if write.previous_version:
            raise ValueError(f"{write.table} records are written once: no version {write.previous_version + 1}")
        # Its system time is the record's created_at, and so is its valid time unless it says
        # otherwise (`store.reads.current_version`): neither is stored twice.
        valid = {"valid_from": context.valid_from} if context.valid_from not in (None, now) else {}
        return [once_item(table, context.tenant, write.table, write.id, write.record, now,
                          **valid, changed_by=context.changed_by, event_id=context.event_id)]
    tenant, version = context.tenant, write.previous_version + 1
    previous_system = write.record.get("updated_at") if write.previous_version else None
    system_from = _after(now, previous_system)
    record = {
        **write.record,
        "version": version,
        "created_at": write.record.get("created_at", system_from) if write.previous_version else system_from,
        "updated_at": system_from,
    }
    valid_from = context.valid_from or system_from
    stored = stored_record(write.table, record)
    says = {  # what the version says, beside its record
        "tenant": tenant, "table": write.table, "id": write.id, "version": version, RECORD: stored,
        "valid_from": valid_from, "system_from": system_from, "event_id": context.event_id,
        "changed_by": context.changed_by, "change": write.change,
    }
    current = {**says, HOLDS_VERSION: True, **index_keys(tenant, write.table, write.id, record, system_from)}
    if write.changes != default_changes(record):
        current[CHANGES] = write.changes
    own_item = _superseded_version(write) if write.previous_version else None
    if context.effective_at_stated:  # the worker dates derived rows from it (docs/derived-data.md)
        current[STATED_EFFECTIVE_AT] = valid_from
    # SET what the current item holds now; REMOVE index keys, changes and a stated effective_at
    # that no longer apply. Counters such as open_disbursements are left untouched.
    stale = [name for name in (*INDEX_ATTRIBUTES, STATED_EFFECTIVE_AT, CHANGES) if name not in current]
    names = {f"#s{i}": name for i, name in enumerate(current)} | {f"#r{i}": name for i, name in enumerate(stale)}
    values = {f":s{i}": _serializer.serialize(value) for i, value in enumerate(current.values())}
    update = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(current)))
    if stale:
        update += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(stale)))
    if write.previous_version:
        condition = "#lock = :expected"
        names["#lock"] = "version"
        values[":expected"] = {"N": str(write.previous_version)}
    else:
        condition = "attribute_not_exists(PK)"
    items = [{"Update": {
        "TableName": table, "Key": current_key(tenant, write.table, write.id),
        "UpdateExpression": update, "ConditionExpression": condition,
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
    }}]
    if own_item is not None:
        items.insert(0, {"Put": {
            "TableName": table,
            "Item": {"PK": {"S": record_pk(tenant, write.table, write.id)},
                     "SK": {"S": version_sk(int(own_item["version"]))}, **to_attributes(own_item)},
            "ConditionExpression": "attribute_not_exists(PK)",
        }})
    return items


def supersede(tenant: str, writes: Iterable[RecordWrite]) -> None:
    """Give each write that supersedes a version and lacks it the current item it supersedes: one
    consistent BatchGetItem per 100 (for writers that decided on records, not items)."""
    missing = [write for write in writes if write.previous_version and write.superseded is None]
    if missing:
        found = batch_get(tenant, [Ref(write.table, write.id) for write in missing])
        for write in missing:
            write.superseded = found[Ref(write.table, write.id)]


def default_changes(record: dict[str, Any]) -> list[str]:
    """The changes of a record's first version: every field it has."""
    return sorted(name for name in record if name not in ("version", "created_at", "updated_at"))


def _superseded_version(write: RecordWrite) -> dict[str, Any] | None:
    """The own item of the version `write` supersedes: a copy of what its current item says, or
    None when that version has its item already (a current item written before it held its
    version). The update's lock on that version makes the copy exact."""
    held = write.superseded
    if held is None:
        raise ValueError(f"{write.table} {write.id}: the current item of version {write.previous_version} "
                         "is needed to write the next version")
    if int(held["version"]) != write.previous_version:  # changed since it was decided against
        raise WriteConflict([f"{write.table} {write.id} is at version {held['version']}"])
    if not held.get(HOLDS_VERSION):
        return None
    record = held[RECORD]
    return {
        "tenant": held["tenant"], "table": held["table"], "id": held["id"], "version": write.previous_version,
        "previous_version": write.previous_version - 1 or None, RECORD: stored_record(write.table, record),
        "valid_from": held["valid_from"], "system_from": held["system_from"], "changed_by": held["changed_by"],
        "event_id": held["event_id"], CHANGES: held[CHANGES] if CHANGES in held else default_changes(record),
        "deleted": bool(record.get("deleted")), "change": held.get("change") or {},
    }


def _after(now: str, previous: str | None) -> str:
    """System time strictly after the previous version's, even if clocks disagree."""
    if previous is None or now > previous:
        return now
    moment = datetime.strptime(previous, "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(microseconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _require_no_links(update_item: dict[str, Any]) -> None:
    """Add 'no open disbursements' to the condition of a client's current-item update."""
    update = update_item["Update"]
    update["ConditionExpression"] = (
        f"({update['ConditionExpression']}) AND (attribute_not_exists(#links) OR #links = :zero)"
    )
    update["ExpressionAttributeNames"]["#links"] = LINK_COUNTER
    update["ExpressionAttributeValues"][":zero"] = {"N": "0"}


def _unchanged_check(table: str, tenant: str, target: Ref, version: int) -> dict[str, Any]:
    return {"ConditionCheck": {
        "TableName": table, "Key": current_key(tenant, target.table, target.id),
        "ConditionExpression": "#v = :v",
        "ExpressionAttributeNames": {"#v": "version"},
        "ExpressionAttributeValues": {":v": {"N": str(version)}},
    }}


def _parent_check(table: str, tenant: str, ref: Ref) -> dict[str, Any]:
    return {"ConditionCheck": {
        "TableName": table, "Key": current_key(tenant, ref.table, ref.id),
        "ConditionExpression": "attribute_exists(PK) AND #r.#d = :false",
        "ExpressionAttributeNames": {"#r": "record", "#d": "deleted"},
        "ExpressionAttributeValues": {":false": {"BOOL": False}},
    }}


def _link_update(table: str, tenant: str, client_id: str, delta: int) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": table, "Key": current_key(tenant, CLIENTS, client_id),
        "UpdateExpression": "ADD #links :delta",
        "ExpressionAttributeNames": {"#links": LINK_COUNTER},
        "ExpressionAttributeValues": {":delta": {"N": str(delta)}},
        "ConditionExpression": "attribute_exists(PK)",
    }
    if delta > 0:  # linking needs a live client
        update["ConditionExpression"] = "attribute_exists(PK) AND #r.#d = :false"
        update["ExpressionAttributeNames"].update({"#r": "record", "#d": "deleted"})
        update["ExpressionAttributeValues"][":false"] = {"BOOL": False}
    return {"Update": update}


def _guard_write(table: str, tenant: str, ref: Ref, holder: str | None) -> dict[str, Any]:
    key = item_key(tenant, ref.table, ref.id)
    if holder is None:
        return {"Delete": {"TableName": table, "Key": key}}
    return {"Put": {
        "TableName": table,
        "Item": {**key, "payment_id": {"S": holder}},
        "ConditionExpression": "attribute_not_exists(PK) OR payment_id = :me",
        "ExpressionAttributeValues": {":me": {"S": holder}},
    }}
