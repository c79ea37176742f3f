"""Derivations: what the worker computes from a change of a source record. Pure (no AWS, no clock).

Two kinds:
- rows of one change (`rows_of_change`): extensions, rebates, write-offs and asset status come
  from one version of one source record (old image, new image) and are created once, with an
  id built from that version;
- per-disbursement state (`recompute`): status and balance statement come from the
  disbursement and all its payments (the siblings) on a processing date, and are replaced.
"""

from __future__ import annotations

from typing import Any

from ledgerline.domain.derive.assets import goods_asset, operation_asset
from ledgerline.domain.derive.changes import disbursement_changes
from ledgerline.domain.derive.common import Cause, Row, operation_of
from ledgerline.domain.derive.recompute import Recomputed, recompute
from ledgerline.domain.tables import CLIENTS, DISBURSEMENTS, OPERATIONS, PAYMENTS

Record = dict[str, Any]


def _disbursement_rows(old: Record | None, new: Record, change: Record | None, cause: Cause) -> list[Row]:
    return disbursement_changes(old, new, change, cause) + goods_asset(old, new, cause)


def _operation_rows(old: Record | None, new: Record, change: Record | None, cause: Cause) -> list[Row]:
    return operation_asset(old, new, cause)


def _no_rows(old: Record | None, new: Record, change: Record | None, cause: Cause) -> list[Row]:
    return []  # a payment moves its disbursement's status and statement only; a client, the reports only


# The worker's dispatch: the create-once rows a change of each worker input derives (a test
# checks that every table the registry marks `feeds_worker` has its entry).
ROWS_OF_CHANGE = {CLIENTS: _no_rows, DISBURSEMENTS: _disbursement_rows, OPERATIONS: _operation_rows,
                  PAYMENTS: _no_rows}


def rows_of_change(
    table: str, old: dict[str, Any] | None, new: dict[str, Any], change: dict[str, Any] | None, cause: Cause
) -> list[Row]:
    """The create-once rows one version of a source record derives."""
    return ROWS_OF_CHANGE.get(table, _no_rows)(old, new, change, cause)


def disbursement_of(table: str, record: dict[str, Any]) -> str | None:
    """The disbursement whose status and statement a change of this record can move."""
    if table == DISBURSEMENTS:
        return record.get("disbursement_id")
    if table == PAYMENTS:
        if not record.get("disbursement_id"):
            raise ValueError(f"payment {record.get('payment_id')!r} has no disbursement_id")
        return record["disbursement_id"]
    return None  # operations carry money and assets, not installments


__all__ = ["Cause", "Recomputed", "Row", "disbursement_of", "operation_of", "recompute",
           "rows_of_change"]
