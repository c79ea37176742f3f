"""Reading records back, always inside the caller's tenant. Queries only: never a Scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgerline import aws
from ledgerline.domain.tables import TABLES
from ledgerline.settings import get_settings
from ledgerline.store.keys import current_key, group_partition, record_pk
from ledgerline.store.records import from_attributes, to_attributes
from ledgerline.store.schema import BY_CLIENT, BY_DISBURSEMENT, LIST_BY_TABLE

# Sorts after every character of a timestamp or id, to close a key range.
_HIGH = "~"


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
    return from_attributes(item)["record"] if item else None


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
    """
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if group is not None:
        index = BY_DISBURSEMENT
        condition = "#pk = :pk"
        values[":pk"] = group_partition(tenant, table, group)
    elif disbursement_id or client_id:
        index, owner = (BY_DISBURSEMENT, f"D#{disbursement_id}") if disbursement_id else (BY_CLIENT, f"C#{client_id}")
        low, high = f"{table}#{updated_since or ''}", f"{table}#{_HIGH}"
        condition = "#pk = :pk AND #sk BETWEEN :low AND :high"
        values.update({":pk": f"T#{tenant}#{owner}", ":low": low, ":high": high})
    else:
        index = LIST_BY_TABLE
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
        items += [from_attributes(item)["record"] for item in page["Items"]]
        last_key = page.get("LastEvaluatedKey")
        if not last_key or len(items) >= limit:
            return Page(items, last_key)


def record_versions(tenant: str, table: str, record_id: str) -> list[dict[str, Any]] | None:
    """All versions of a record, oldest first; None when the tenant has no such record."""
    client = aws.dynamodb()
    pk = record_pk(tenant, table, record_id)
    found: list[dict[str, Any]] = []
    query = {
        "TableName": get_settings().records_table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ConsistentRead": True,
    }
    for page in client.get_paginator("query").paginate(**query):
        found += [from_attributes(item) for item in page["Items"]]
    current = next((item for item in found if item["SK"] == "v0"), None)
    if current is None:
        return None
    versions = [item for item in found if item["SK"] != "v0"]
    if not versions and not TABLES[table].version_items:
        # An ingested event is immutable: its single version lives in its current item.
        changed_by = current.get("changed_by") or current["record"].get("key_id")
        versions = [{**current, "previous_version": None, "changed_by": changed_by,
                     "changes": sorted(k for k in current["record"] if k not in ("version", "created_at", "updated_at")),
                     "deleted": False, "valid_from": current["record"]["created_at"],
                     "system_from": current["record"]["created_at"]}]
    return sorted(versions, key=lambda v: v["version"])
