"""Reading records back, always inside the caller's tenant. Queries only: never a Scan."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerline import aws
from ledgerline.domain.tables import TABLES
from ledgerline.domain.values import parse_when
from ledgerline.observability import count, logger
from ledgerline.settings import get_settings
from ledgerline.store.keys import current_key, group_partition, record_pk
from ledgerline.store.records import CHANGES, default_changes, from_attributes, get_items, to_attributes
from ledgerline.store.schema import (
    BY_CLIENT,
    BY_DISBURSEMENT,
    CLIENT,
    LIST_BY_TABLE,
    OWNER,
    PK,
    SK,
    TABLE,
    Index,
    indexes_of,
)

# Sorts after every character of a timestamp or id, to close a key range.
_HIGH = "~"
_JSON_SCALARS = (str, bool, int, Decimal, type(None))


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    last_key: dict[str, Any] | None  # DynamoDB's LastEvaluatedKey, for the next page


def get_record(tenant: str, table: str, record_id: str) -> dict[str, Any] | None:
    """The current record (read-after-write consistent), or None when the tenant has no such record."""
    item = aws.dynamodb().get_item(
        TableName=get_settings().records_table,
        Key=current_key(tenant, table, record_id),
        ProjectionExpression="#r",
        ExpressionAttributeNames={"#r": "record"},
        ConsistentRead=True,
    ).get("Item")
    current = _readable(item) if item else None
    return current["record"] if current else None


def list_records(
    tenant: str,
    table: str,
    *,
    limit: int,
    start_key: dict[str, Any] | None = None,
    updated_since: str | None = None,
    disbursement_id: str | None = None,
    client_id: str | None = None,
    group: str | None = None,
) -> Page:
    """A page of current records in (updated_at, id) order, from the index that fits the filters.

    `group`: only the records of that group of a grouped table (an asset's holders, a run's lines).
    On a keys-only index (tables of large items), the page's items are then read by key: one
    consistent BatchGetItem per 100.
    """
    filters = {"disbursement_id": disbursement_id, "client_id": client_id}
    own_id = filters.get(TABLES[table].id_field)
    if own_id is not None:  # the filter names one record: read it by its key, no index
        record = None if start_key else get_record(tenant, table, own_id)
        wanted = record is not None and all(record.get(k) == v for k, v in filters.items() if v is not None) \
            and (updated_since is None or record["updated_at"] >= updated_since)
        return Page([record] if wanted else [], None)
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if group is not None:
        index = BY_DISBURSEMENT
        condition = "#pk = :pk"
        values[":pk"] = group_partition(tenant, table, group)
    elif disbursement_id or client_id:
        index, owner = (_index(table, OWNER, BY_DISBURSEMENT), f"D#{disbursement_id}") if disbursement_id \
            else (_index(table, CLIENT, BY_CLIENT), f"C#{client_id}")
        low, high = f"{table}#{updated_since or ''}", f"{table}#{_HIGH}"
        condition = "#pk = :pk AND #sk BETWEEN :low AND :high"
        values.update({":pk": f"T#{tenant}#{owner}", ":low": low, ":high": high})
    else:
        index = _index(table, TABLE, LIST_BY_TABLE)
        condition = "#pk = :pk" + (" AND #sk >= :low" if updated_since else "")
        values[":pk"] = f"T#{tenant}#{table}"
        if updated_since:
            values[":low"] = updated_since
    names["#pk"] = index.partition_key
    if "#sk" in condition:
        names["#sk"] = index.sort_key
    query: dict[str, Any] = {
        "TableName": get_settings().records_table,
        "IndexName": index.name,
        "KeyConditionExpression": condition,
    }
    if disbursement_id and client_id:  # both: the disbursement's records of that client
        query["FilterExpression"] = "#r.#c = :client"
        names.update({"#r": "record", "#c": "client_id"})
        values[":client"] = client_id
    query["ExpressionAttributeNames"] = names
    query["ExpressionAttributeValues"] = to_attributes(values)

    items: list[dict[str, Any]] = []
    last_key = start_key
    client = aws.dynamodb()
    while True:
        page = client.query(**query, Limit=limit - len(items), **({"ExclusiveStartKey": last_key} if last_key else {}))
        found = _by_key(page["Items"]) if index.keys_only else page["Items"]
        items += [current["record"] for current in map(_readable, found) if current]
        last_key = page.get("LastEvaluatedKey")
        if not last_key or len(items) >= limit:
            return Page(items, last_key)


def _index(table: str, lists_by: str, default: Index) -> Index:
    """The index listing `table` that way (`schema.indexes_of`), else `default` (whose partition
    then holds none of the table's records: an empty page, as for any filter nothing matches)."""
    return next((index for index in indexes_of(table) if index.lists_by == lists_by), default)


def _by_key(index_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The current items of a keys-only index page, in the page's order (an item gone since is left out)."""
    keys = [{PK: item[PK], SK: item[SK]} for item in index_items]
    stored = {(item[PK]["S"], item[SK]["S"]): item for item in get_items(keys)} if keys else {}
    return [stored[key] for key in ((k[PK]["S"], k[SK]["S"]) for k in keys) if key in stored]


def record_versions(tenant: str, table: str, record_id: str) -> list[dict[str, Any]] | None:
    """All versions of a record, oldest first; None when the tenant has no such record.

    One consistent Query of the record's items: its version items and its current item, which
    tells its own version when no version item does (a record written once, or a current item
    that holds its version: `records.HOLDS_VERSION`)."""
    client = aws.dynamodb()
    pk = record_pk(tenant, table, record_id)
    found: list[dict[str, Any]] = []
    query = {
        "TableName": get_settings().records_table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ConsistentRead": True,
    }
    exists = False
    for page in client.get_paginator("query").paginate(**query):
        exists = exists or any(item["SK"].get("S") == "v0" for item in page["Items"])
        found += [item for item in map(_readable, page["Items"]) if item]
    if not exists:
        return None
    versions = {int(item["version"]): item for item in found if item["SK"] != "v0"}
    current = next((item for item in found if item["SK"] == "v0"), None)
    if current and int(current["version"]) not in versions:
        versions[int(current["version"])] = current_version(current)
    return [versions[number] for number in sorted(versions)]


def current_version(current: dict[str, Any]) -> dict[str, Any]:
    """The version a current item tells itself (no version item of its own): a record written
    once (`records.once_item`, version 1) or a current item that holds its version.

    What the version says is stored beside the record, or derived when it would repeat it: a
    row written once keeps its times in its record's created_at, an ingested event its key and
    event id in its record, a first version's changes are all its fields."""
    record = current["record"]
    version = int(current["version"])
    return {
        "version": version, "previous_version": version - 1 or None, "record": record,
        "valid_from": current.get("valid_from") or record["created_at"],
        "system_from": current.get("system_from") or record["created_at"],
        "changed_by": current.get("changed_by") or record.get("key_id"),
        "event_id": current.get("event_id") or record.get("event_id"),
        "changes": current[CHANGES] if CHANGES in current else default_changes(record),
        "deleted": bool(record.get("deleted")),
        "change": current.get("change") or {},
    }


def _readable(item: dict[str, Any]) -> dict[str, Any] | None:
    """A stored item decoded for answering, or None (logged) when it cannot be: a read answers
    with the items it can serve, never with a 500 because of one item's content."""
    try:
        decoded = from_attributes(item)
        if not isinstance(decoded.get("record"), dict) or not _plain_json(decoded["record"]):
            raise ValueError("record is not a JSON object of plain values")
        if decoded.get("SK", "v0") != "v0":  # a version: history and as-of need its times
            int(decoded["version"])
            parse_when(decoded["valid_from"])
            parse_when(decoded["system_from"])
        return decoded
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        logger.error("stored item cannot be read; left out of the answer",
                     extra={"pk": item.get("PK"), "sk": item.get("SK"), "reason": repr(error)[:300]})
        count("UnreadableItems")
        return None


def _plain_json(value: Any) -> bool:
    """Whether `value` is JSON the one writer can answer with (no sets, binaries or non-finite numbers)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif not isinstance(item, _JSON_SCALARS) or (isinstance(item, Decimal) and not item.is_finite()):
            return False
    return True
