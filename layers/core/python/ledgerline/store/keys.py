"""Key builders of the single table. Tenant first in every key; ids cannot contain '#'."""

from __future__ import annotations

from datetime import UTC, datetime

from ledgerline.domain.tables import TABLES
from ledgerline.store.schema import BY_DISBURSEMENT, CLIENT, CURRENT_SK, INDEXES, OWNER, TABLE, indexes_of


def record_pk(tenant: str, table: str, record_id: str) -> str:
    return f"T#{tenant}#{table}#{record_id}"


def version_sk(version: int) -> str:
    return f"v{version:010d}"


def current_key(tenant: str, table: str, record_id: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": record_pk(tenant, table, record_id)}, "SK": {"S": CURRENT_SK}}


def item_key(tenant: str, table: str, item_id: str) -> dict[str, dict[str, str]]:
    """The key of the item a registry table keeps per id: a current item or a guard."""
    return {"PK": {"S": record_pk(tenant, table, item_id)}, "SK": {"S": TABLES[table].item_sk}}


def index_keys(tenant: str, table: str, record_id: str, record: dict, updated_at: str) -> dict[str, str]:
    """GSI attributes of a current item: only those of the indexes its table is listed on
    (`schema.indexes_of`): by table (every readable table), by disbursement and by client (when
    the table has that filter and the record is linked). An index copy costs a write and its
    storage, so no item is on an index nothing lists it through.

    Every sort key orders by updated_at then id, so each index lists a table in update order.
    """
    keys = {}
    for index in indexes_of(table):
        if index.lists_by == TABLE:
            keys[index.partition_key] = f"T#{tenant}#{table}"
            keys[index.sort_key] = f"{updated_at}#{record_id}"
        elif index.lists_by == OWNER and record.get("disbursement_id"):
            keys[index.partition_key] = f"T#{tenant}#D#{record['disbursement_id']}"
            keys[index.sort_key] = f"{table}#{updated_at}#{record_id}"
        elif index.lists_by == CLIENT and record.get("client_id"):
            keys[index.partition_key] = f"T#{tenant}#C#{record['client_id']}"
            keys[index.sort_key] = f"{table}#{updated_at}#{record_id}"
    group_field = TABLES[table].group_field if table in TABLES else None
    if group_field and record.get(group_field):
        # Grouped tables share the owner index with disbursements, under a prefix of their own.
        keys[BY_DISBURSEMENT.partition_key] = group_partition(tenant, table, record[group_field])
        keys[BY_DISBURSEMENT.sort_key] = f"{updated_at}#{record_id}"
    return keys


def group_partition(tenant: str, table: str, group: str) -> str:
    """Owner-index partition of a group of a grouped table (`group_field` in the registry)."""
    return f"T#{tenant}#G#{table}#{group}"


INDEX_ATTRIBUTES = tuple(name for index in INDEXES for name in (index.partition_key, index.sort_key))


def system_time(moment: datetime | None = None) -> str:
    """Fixed-width UTC timestamp (always microseconds) so text order is time order."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
