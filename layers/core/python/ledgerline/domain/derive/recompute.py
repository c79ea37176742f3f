"""Per-disbursement recomputation: status and statement from the disbursement's current state.

The worker calls this after any change to a disbursement or one of its payments, and the
daily sweep calls it for disbursements whose next due date has passed. It is a function of
the state, not of the change: applying it twice to the same state yields nothing the second
time, which is what makes replays no-ops.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledgerline.domain.derive.common import Cause, Row
from ledgerline.domain.derive.statements import (
    build_statement,
    previous_status,
    same_content,
    statement_row,
    sweep_day,
)
from ledgerline.domain.derive.status import derive_status, status_row


@dataclass
class Recomputed:
    status: str
    statement: Row | None  # a new version of the statements record, when its content changed
    status_change: Row | None  # a disbursement_status row, when the status changed
    sweep_before: date | None  # the due day the sweep watched before
    sweep_after: date | None  # ... and the one it must watch now

    @property
    def rows(self) -> list[Row]:
        return [row for row in (self.statement, self.status_change) if row is not None]


def applies_as_of(stored_statement: dict[str, Any] | None, cause: Cause) -> bool:
    """Whether `cause` is newer than everything the stored statement reflects."""
    as_of = stored_statement.get("as_of") if stored_statement else None
    return as_of is None or cause.system_from > as_of


def recompute(
    disbursement: dict[str, Any],
    payments: Iterable[dict[str, Any]],
    stored_statement: dict[str, Any] | None,
    today: date,
    cause: Cause,
    disbursement_at_cause: dict[str, Any] | None = None,
    payment_at_cause: dict[str, Any] | None = None,
) -> Recomputed:
    """Status and statement of a disbursement after `cause`.

    The statement remembers `as_of`, the system time of the newest change it reflects. A cause
    newer than that is applied as of its own time: payments created after it are left to their
    own stream records, and the disbursement and the triggering payment are taken as they were
    then (`disbursement_at_cause`, `payment_at_cause`: the stream image, or the version valid
    then). So a worker running behind still records `ongoing` on create before the payments
    that make it overdue, in the order things happened. A cause not newer than `as_of` (a
    replay, a late record from another shard) is applied to the whole current state, which the
    statement already reflects: nothing to do. Either way, once the newest change has been
    processed, the statement is that of the current state.
    """
    payments = list(payments)
    as_of = stored_statement.get("as_of") if stored_statement else None
    if applies_as_of(stored_statement, cause):
        as_of = cause.system_from
        payments = _replace(payments, payment_at_cause, newer_only=False)
        payments = [p for p in payments if (p.get("created_at") or "") <= as_of]
        disbursement = disbursement_at_cause or disbursement
    else:
        payments = _replace(payments, payment_at_cause, newer_only=True)
    verdict = derive_status(disbursement, payments, today)
    built = build_statement(disbursement, payments, verdict.status)
    changed = not same_content(stored_statement, built)
    return Recomputed(
        status=verdict.status,
        statement=statement_row({**built, "as_of": as_of}, cause) if changed else None,
        status_change=status_row(disbursement["disbursement_id"], previous_status(stored_statement), verdict, cause,
                                 _paid_on(payment_at_cause)),
        sweep_before=sweep_day(stored_statement),
        sweep_after=sweep_day(built),
    )


def _replace(payments: list[dict[str, Any]], payment: dict[str, Any] | None, newer_only: bool) -> list[dict[str, Any]]:
    """`payments` with `payment` in place of the one with its id (added if missing; only if
    not older than the one there when `newer_only`)."""
    if payment is None:
        return payments
    known = next((p for p in payments if p.get("payment_id") == payment.get("payment_id")), None)
    if newer_only and known is not None and int(known.get("version") or 0) > int(payment.get("version") or 0):
        return payments
    return [p for p in payments if p is not known] + [payment]


def _paid_on(payment: dict[str, Any] | None) -> str | None:
    """The payment_date of the payment a change marked paid (what cures an overdue disbursement)."""
    if payment is None or payment.get("status") != "paid" or payment.get("deleted"):
        return None
    return payment.get("payment_date") or payment.get("due_date")
