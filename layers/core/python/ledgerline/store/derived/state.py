"""What a recomputation reads: a disbursement, its statements record (the lock), its payments,
and a record as it was at a system time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledgerline import aws
from ledgerline.domain.category import Ref
from ledgerline.domain.tables import CURRENT_SK, DISBURSEMENTS, PAYMENTS, STATEMENTS
from ledgerline.settings import get_settings
from ledgerline.store.keys import record_pk, version_sk
from ledgerline.store.records import batch_get, from_attributes
from ledgerline.store.schema import BY_DISBURSEMENT, PK, SK


def load_state(tenant: str, disbursement_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Consistent reads of the disbursement's current item and of its statements item (the lock)."""
    found = batch_get(tenant, [Ref(DISBURSEMENTS, disbursement_id), Ref(STATEMENTS, disbursement_id)])
    return found[Ref(DISBURSEMENTS, disbursement_id)], found[Ref(STATEMENTS, disbursement_id)]


def payments_of(tenant: str, disbursement_id: str) -> list[dict[str, Any]]:
    """Every payment of a disbursement (current records), from its item collection (GSI2)."""
    return [item["record"] for item in _collection(tenant, disbursement_id, PAYMENTS)]


def version_as_of(tenant: str, table: str, record_id: str, system_time: str) -> dict[str, Any] | None:
    """The record as it was at `system_time` (its newest version stored by then), or None.

    One consistent Query of the record's items, the current item included: it holds its own
    version when that version has no item yet (`records.HOLDS_VERSION`)."""
    pages = aws.dynamodb().get_paginator("query").paginate(
        TableName=get_settings().records_table,
        KeyConditionExpression="#pk = :pk AND #sk BETWEEN :current AND :last",
        FilterExpression="#system <= :time",
        ExpressionAttributeNames={"#pk": PK, "#sk": SK, "#system": "system_from"},
        ExpressionAttributeValues={
            ":pk": {"S": record_pk(tenant, table, record_id)}, ":current": {"S": CURRENT_SK},
            ":last": {"S": version_sk(9_999_999_999)}, ":time": {"S": system_time},
        },
        ConsistentRead=True,
    )
    stored = [from_attributes(item) for page in pages for item in page.get("Items", [])]
    newest = max(stored, key=lambda item: int(item["version"]), default=None)
    return newest["record"] if newest else None


def _collection(tenant: str, disbursement_id: str, table: str) -> Iterator[dict[str, Any]]:
    pages = aws.dynamodb().get_paginator("query").paginate(
        TableName=get_settings().records_table,
        IndexName=BY_DISBURSEMENT.name,
        KeyConditionExpression="#pk = :pk AND begins_with(#sk, :table)",
        ExpressionAttributeNames={"#pk": BY_DISBURSEMENT.partition_key, "#sk": BY_DISBURSEMENT.sort_key},
        ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#D#{disbursement_id}"}, ":table": {"S": f"{table}#"}},
    )
    for page in pages:
        yield from (from_attributes(item) for item in page.get("Items", []))
