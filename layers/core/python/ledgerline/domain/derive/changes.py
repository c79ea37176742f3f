"""Extensions, rebates and write-offs: what an update of a disbursement changed, and why.

From the record before and after one disbursement version (the stream's old and new image)
and the `change` the partner sent with it (change_date, change_reason):
  extensions  maturity_date moved (days_extended is negative when moved earlier)
  rebates     total_expected_margin lowered
  write_offs  disbursement_amount lowered (to 0: a full write-off)
A create, a delete, or an update of a deleted record derives none of them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerline.domain.derive.common import CHANGE_EVENT, Cause, Row, day
from ledgerline.domain.tables import EXTENSIONS, REBATES, WRITE_OFFS

CHANGE_TYPES = {EXTENSIONS: "extension", REBATES: "rebate", WRITE_OFFS: "write_off"}


def disbursement_changes(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    change: dict[str, Any] | None,
    cause: Cause,
) -> list[Row]:
    if old is None or old.get("deleted") or new.get("deleted"):
        return []
    disbursement_id = new["disbursement_id"]
    change = change or {}
    row_id = cause.row_id(disbursement_id)
    common = {
        "disbursement_id": disbursement_id,
        "change_date": change.get("change_date") or cause.valid_from,
        "change_reason": change.get("change_reason"),
        "cause": cause.as_record(),
        "deleted": False,
    }
    rows = []
    before, after = old.get("maturity_date"), new.get("maturity_date")
    if before and after and before != after:
        days = (day(after) - day(before)).days
        rows.append(_row(EXTENSIONS, row_id, {
            "extension_id": row_id, "old_maturity_date": before, "new_maturity_date": after,
            "days_extended": days, **common,
        }, f"Disbursement {disbursement_id} maturity moved from {before} to {after} ({days:+d} days)"))
    lowered = _lowered(old, new, "total_expected_margin")
    if lowered:
        before_margin, after_margin = lowered
        rows.append(_row(REBATES, row_id, {
            "rebate_id": row_id, "old_margin": before_margin, "new_margin": after_margin,
            "rebate_amount": before_margin - after_margin, **common,
        }, f"Disbursement {disbursement_id} margin lowered from {before_margin:f} to {after_margin:f}"))
    lowered = _lowered(old, new, "disbursement_amount")
    if lowered:
        before_amount, after_amount = lowered
        rows.append(_row(WRITE_OFFS, row_id, {
            "write_off_id": row_id, "old_amount": before_amount, "new_amount": after_amount,
            "write_off_amount": before_amount - after_amount, **common,
        }, f"Disbursement {disbursement_id} written off by {before_amount - after_amount:f}"
           f"{' in full' if after_amount == 0 else ''}"))
    return rows


def _lowered(old: dict[str, Any], new: dict[str, Any], name: str) -> tuple[Decimal, Decimal] | None:
    if old.get(name) is None or new.get(name) is None:
        return None
    before, after = Decimal(old[name]), Decimal(new[name])
    return (before, after) if after < before else None


def _row(table: str, row_id: str, record: dict[str, Any], message: str) -> Row:
    entity = {"change_type": CHANGE_TYPES[table], **{k: v for k, v in record.items() if k != "deleted"}}
    return Row(table, row_id, record, CHANGE_EVENT, message, entity)
