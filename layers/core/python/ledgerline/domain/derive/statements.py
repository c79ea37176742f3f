"""A disbursement's balance statement: one cycle per installment due date, balances chained.

- The payments that count are those neither canceled nor deleted.
- A cycle is everything that falls due on one calendar day (normally one installment);
  cycles are numbered 1, 2, ... in due-date order.
- `debits`: the amounts falling due in the cycle; `credits`: the part of them that is paid.
- `previous_balance` is the previous cycle's `current_balance` (0 for the first);
  `current_balance = previous_balance + debits - credits`.
- `real_due_date` moves a due date on a Saturday or Sunday to the Monday after
  (weekends only: public holidays are not known to Ledgerline).
- `current_cycle` is the first cycle not fully paid and `open_due_date` its due date (both
  null when every cycle is paid or there is none).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerline.domain.derive.common import STATEMENT_EVENT, Cause, Row, day
from ledgerline.domain.derive.status import (
    CANCELED,
    ONGOING,
    OVERDUE,
    SETTLED,
    WRITTEN_OFF,
    open_payments,
)
from ledgerline.domain.tables import STATEMENTS

COLLECTION_STATUS = {
    ONGOING: "NORMAL",
    OVERDUE: "DELINQUENT",
    SETTLED: "SETTLED",
    WRITTEN_OFF: "WRITTEN_OFF",
    CANCELED: "CANCELED",
}
STATUS_OF_COLLECTION = {v: k for k, v in COLLECTION_STATUS.items()}
ZERO = Decimal(0)


def real_due_date(due: date) -> date:
    """The next business day when `due` falls on a weekend (Saturday +2, Sunday +1)."""
    weekday = due.weekday()  # Monday 0 .. Sunday 6
    return due + timedelta(days=7 - weekday) if weekday >= 5 else due


def cycles(disbursement_id: str, payments: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statement's cycles, ordered by due date, with chained balances."""
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for payment in open_payments(payments):
        by_day[day(payment["due_date"])].append(payment)
    result = []
    balance = ZERO
    for number, due in enumerate(sorted(by_day), start=1):
        group = sorted(by_day[due], key=lambda p: (p.get("installment_number") or 0, p["payment_id"]))
        debits = sum((Decimal(p["amount"]) for p in group), ZERO)
        credits = sum((Decimal(p["amount"]) for p in group if p.get("status") == "paid"), ZERO)
        current = balance + debits - credits
        result.append({
            "statement_id": f"{disbursement_id}~{due.isoformat()}",
            "cycle": number,
            "due_date": due.isoformat(),
            "real_due_date": real_due_date(due).isoformat(),
            "previous_balance": balance,
            "debits": debits,
            "credits": credits,
            "current_balance": current,
            "payment_ids": [p["payment_id"] for p in group],
        })
        balance = current
    return result


def build_statement(disbursement: dict[str, Any], payments: Iterable[dict[str, Any]], status: str) -> dict[str, Any]:
    """The statements record of a disbursement (without its cause and bookkeeping)."""
    disbursement_id = disbursement["disbursement_id"]
    chain = cycles(disbursement_id, payments)
    current = next((c for c in chain if c["credits"] < c["debits"]), None)
    return {
        "disbursement_id": disbursement_id,
        "currency": disbursement.get("currency"),
        "collection_status": COLLECTION_STATUS[status],
        "current_cycle": current["cycle"] if current else None,
        "open_due_date": current["due_date"] if current else None,
        "statements": chain,
        "deleted": False,
    }


# What a stored statement holds beyond its content: bookkeeping and the cause of its last change.
_NOT_CONTENT = ("version", "created_at", "updated_at", "cause", "as_of")


def same_content(stored: dict[str, Any] | None, built: dict[str, Any]) -> bool:
    if stored is None:
        return False
    return {k: v for k, v in stored.items() if k not in _NOT_CONTENT} == built


def statement_row(built: dict[str, Any], cause: Cause) -> Row:
    """The statements record of `built` (with `as_of`, the system time it is as of)."""
    record = {**built, "cause": cause.as_record()}
    entity = {k: v for k, v in record.items() if k != "deleted"}
    message = (f"Balance statement of disbursement {built['disbursement_id']} updated: "
               f"{built['collection_status']}, {len(built['statements'])} cycles")
    return Row(STATEMENTS, built["disbursement_id"], record, STATEMENT_EVENT, message, entity)


def previous_status(stored: dict[str, Any] | None) -> str | None:
    """The status recorded with a stored statement (its collection status says it one to one)."""
    return STATUS_OF_COLLECTION.get(stored["collection_status"]) if stored else None


def sweep_day(statement: dict[str, Any] | None) -> date | None:
    """The due day after which the daily sweep must look at this disbursement again, or None.

    Only a disbursement in good standing (NORMAL) becomes overdue by the mere passing of time;
    every other change comes with an event that the worker sees anyway.
    """
    if not statement or statement.get("collection_status") != "NORMAL":
        return None
    return day(statement.get("open_due_date"))
