"""Reading records back, always inside the caller's tenant."""

from __future__ import annotations

from typing import Any

from ledgerline.settings import get_settings
from ledgerline.store import aws
from ledgerline.store.keys import current_key
from ledgerline.store.records import from_attributes

# Every table a partner can read: the four sources, the purchase links, the worker's derived
# tables, and the event logs.
READABLE_TABLES = (
    "clients", "disbursements", "payments", "operations", "purchase_clients", "disbursement_status",
    "extensions", "rebates", "write_offs", "asset_status", "statements", "ingested_events", "outgoing_events",
)


def get_record(tenant: str, table: str, record_id: str) -> dict[str, Any] | None:
    """The current record, or None when the tenant has no such record."""
    item = aws.dynamodb().get_item(
        TableName=get_settings().records_table,
        Key=current_key(tenant, table, record_id),
        ProjectionExpression="#r",
        ExpressionAttributeNames={"#r": "record"},
    ).get("Item")
    return from_attributes(item)["record"] if item else None
