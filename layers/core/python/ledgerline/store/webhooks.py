"""Storage of webhooks: subscriptions (versioned records) and the delivery log (one row per attempt).

A subscription goes through `records.record_items` like every versioned record; an attempt is a
row written once (`records.once_item`) under a deterministic id, so a redelivered queue message
cannot log the same attempt twice.
"""

from __future__ import annotations

from typing import Any

from ledgerline.domain.category import RecordWrite
from ledgerline.domain.tables import WEBHOOK_DELIVERIES, WEBHOOKS
from ledgerline.settings import get_settings
from ledgerline.store import reads
from ledgerline.store.keys import system_time
from ledgerline.store.records import EventContext, once_item, put_once, record_items, supersede, transact

SUBSCRIPTIONS_PAGE = 500


def one(tenant: str, webhook_id: str) -> dict[str, Any] | None:
    return reads.get_record(tenant, WEBHOOKS, webhook_id)


def subscriptions(tenant: str) -> list[dict[str, Any]]:
    """Every live subscription of a tenant: one Query on the by-table index (a tenant has a few)."""
    found: list[dict[str, Any]] = []
    last_key = None
    while True:
        page = reads.list_records(tenant, WEBHOOKS, limit=SUBSCRIPTIONS_PAGE, start_key=last_key)
        found += [webhook for webhook in page.items if not webhook.get("deleted")]
        last_key = page.last_key
        if not last_key:
            return found


def commit(context: EventContext, write: RecordWrite) -> str:
    """Write one version of a subscription (optimistic lock on its current version); the system time."""
    now = system_time()
    supersede(context.tenant, [write])
    transact(record_items(get_settings().records_table, context, write, now))
    return now


def log_attempt(tenant: str, row: dict[str, Any], event_id: str) -> bool:
    """Log one delivery attempt; False when that attempt was logged already (a redelivery)."""
    now = row["at"]
    return put_once(once_item(get_settings().records_table, tenant, WEBHOOK_DELIVERIES, row["delivery_id"], row, now,
                              valid_from=now, system_from=now, changed_by="webhook-delivery", event_id=event_id))


def deliveries(tenant: str, webhook_id: str, limit: int, start_key: dict[str, Any] | None) -> reads.Page:
    """A page of a webhook's delivery log, oldest first."""
    return reads.list_records(tenant, WEBHOOK_DELIVERIES, limit=limit, start_key=start_key, group=webhook_id)
