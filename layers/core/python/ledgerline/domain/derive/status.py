"""The status of a disbursement, from the disbursement and its payments on a processing date.

Precedence, first match wins:
  canceled     the disbursement is deleted
  written_off  its disbursement_amount is 0
  settled      it has at least one payment that is not canceled, and all of those are paid
  overdue      an `expected` payment's due date (its calendar day) is before the processing date
  ongoing      otherwise (and on create)
A deleted payment counts as not there at all; a canceled one is left out of every rule.

A status row is valid from when the status began in business time, so the history reads in
the order things happened (docs/derived-data.md): `ongoing` from the disbursement_date (loan)
or operation_date (purchase); `settled` from the last payment_date (else that payment's due
date); `overdue` from the day after the oldest unpaid due date; back to `ongoing` from the
payment_date that cured it; `written_off` and `canceled` from the valid time of the change
(for a write-off, its change_date). An effective_at the partner stated on the event wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerline.domain.derive.common import STATUS_EVENT, Cause, Row, day
from ledgerline.domain.tables import DISBURSEMENT_STATUS
from ledgerline.domain.values import instant

ONGOING, OVERDUE, SETTLED, WRITTEN_OFF, CANCELED = "ongoing", "overdue", "settled", "written_off", "canceled"


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str
    # overdue: the day it became overdue (the day after the oldest unpaid due date)
    overdue_since: date | None = None
    # when the status began in business time, as far as the state tells (None: the change's valid time)
    since: str | None = None


def open_payments(payments: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payments that count: neither deleted nor canceled."""
    return [p for p in payments if not p.get("deleted") and p.get("status") != "canceled"]


def next_due(payments: Iterable[dict[str, Any]]) -> date | None:
    """The earliest due day of a payment still `expected`, or None."""
    days = [day(p["due_date"]) for p in open_payments(payments) if p.get("status") == "expected"]
    return min(days) if days else None


def derive_status(disbursement: dict[str, Any], payments: Iterable[dict[str, Any]], today: date) -> Verdict:
    payments = open_payments(payments)
    if disbursement.get("deleted"):
        return Verdict(CANCELED, "the disbursement was deleted")
    if Decimal(disbursement.get("disbursement_amount", 1)) == 0:
        return Verdict(WRITTEN_OFF, "disbursement_amount reached 0")
    if payments and all(p.get("status") == "paid" for p in payments):
        last_paid = max((p.get("payment_date") or p["due_date"] for p in payments), key=instant)
        return Verdict(SETTLED, f"all {len(payments)} payments that are not canceled are paid", since=last_paid)
    oldest = next_due(payments)
    if oldest is not None and oldest < today:
        # Named from the oldest due day only, so the reason is the same whatever day it is found.
        late = sorted(p["payment_id"] for p in payments
                      if p.get("status") == "expected" and day(p["due_date"]) == oldest)
        overdue_since = oldest + timedelta(days=1)
        return Verdict(OVERDUE, f"expected payment {', '.join(late)} past due since {oldest.isoformat()}",
                       overdue_since, overdue_since.isoformat())
    started = disbursement.get("disbursement_date") or disbursement.get("operation_date")
    return Verdict(ONGOING, "no payment past due", since=started)


def status_valid_from(previous: str | None, verdict: Verdict, cause: Cause, cured_on: str | None = None) -> str:
    """When the new status began, in business time; `cured_on` is the payment_date of the
    payment the cause marked paid, if any."""
    if cause.effective_at:
        return cause.effective_at
    if verdict.status == ONGOING:
        if previous is None and verdict.since:
            return verdict.since
        if previous == OVERDUE and cured_on:
            return cured_on
        return cause.valid_from
    return verdict.since or cause.valid_from


def status_row(disbursement_id: str, previous: str | None, verdict: Verdict, cause: Cause,
               cured_on: str | None = None) -> Row | None:
    """The disbursement_status row for a change of status, or None when the status stays."""
    if verdict.status == previous:
        return None
    if previous is None:
        reason = "disbursement created" + ("" if verdict.status == ONGOING else f"; {verdict.reason}")
    elif previous == OVERDUE and verdict.status == ONGOING:
        reason = "overdue payments cured; " + verdict.reason
    else:
        reason = verdict.reason
    valid_from = status_valid_from(previous, verdict, cause, cured_on)
    row_id = cause.row_id(disbursement_id)
    record = {
        "status_id": row_id,
        "disbursement_id": disbursement_id,
        "status": verdict.status,
        "previous_status": previous,
        "reason": reason,
        "valid_from": valid_from,
        "cause": cause.as_record(),
        "deleted": False,
    }
    message = (f"Disbursement {disbursement_id} status is {verdict.status}" if previous is None
               else f"Disbursement {disbursement_id} status changed from {previous} to {verdict.status}")
    return Row(DISBURSEMENT_STATUS, row_id, record, STATUS_EVENT, message)
