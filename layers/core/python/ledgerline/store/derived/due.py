"""The sweep's due queue (one entry per disbursement with an open cycle, on the day it falls due)
and the watermark of the last due day a complete sweep processed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from ledgerline import aws
from ledgerline.settings import get_settings
from ledgerline.store.records import from_attributes, to_attributes
from ledgerline.store.schema import PK, SK

DUE_PREFIX = "DUE#"
SWEEP_SHARDS = 4  # due entries of one day spread over this many partitions



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
        items.append({"Delete": {"TableName": get_settings().records_table, "Key": due_key(before, tenant, disbursement_id)}})
    if after is not None:
        items.append({"Put": {"TableName": get_settings().records_table, "Item": {
            **due_key(after, tenant, disbursement_id),
            **to_attributes({"tenant": tenant, "disbursement_id": disbursement_id, "due_day": after.isoformat()}),
        }}})
    return items


def due_on(due: date) -> Iterator[tuple[str, str]]:
    """(tenant, disbursement_id) of every due entry of one day, shard by shard."""
    for shard in range(SWEEP_SHARDS):
        pages = aws.dynamodb().get_paginator("query").paginate(
            TableName=get_settings().records_table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": PK},
            ExpressionAttributeValues={":pk": {"S": f"{DUE_PREFIX}{due.isoformat()}#{shard}"}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page.get("Items", []):
                values = from_attributes(item)
                yield values["tenant"], values["disbursement_id"]


def drop_due(due: date, tenant: str, disbursement_id: str) -> None:
    aws.dynamodb().delete_item(TableName=get_settings().records_table, Key=due_key(due, tenant, disbursement_id))


_WATERMARK_KEY = {PK: {"S": "SWEEP#state"}, SK: {"S": "watermark"}}


def swept_through() -> date | None:
    """The last due day a complete sweep has processed, or None before the first one."""
    item = aws.dynamodb().get_item(TableName=get_settings().records_table, Key=_WATERMARK_KEY, ConsistentRead=True).get("Item")
    return date.fromisoformat(item["last_day"]["S"]) if item else None


def mark_swept_through(day: date) -> None:
    """Advance the watermark (never move it back: an older run finishing late changes nothing)."""
    try:
        aws.dynamodb().put_item(
            TableName=get_settings().records_table,
            Item={**_WATERMARK_KEY, "last_day": {"S": day.isoformat()}},
            ConditionExpression="attribute_not_exists(PK) OR last_day < :day",
            ExpressionAttributeValues={":day": {"S": day.isoformat()}},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


