"""The report use cases: read what a report needs (totals, lines, records), compute it (pure).

`known_at` None means now: the totals are the answer. A past `known_at` K subtracts the lines
stored after K (valid within the report's span), so the answer is exactly what a report
computed at K would have been, once the worker had processed everything stored by K.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ledgerline.domain import reports
from ledgerline.domain.journal import ZERO, Line
from ledgerline.domain.reports import LoanFacts, Movement
from ledgerline.store import journal, reads

PAGE = 500


def _after(tenant: str, currency: str, known_at: str | None, keep: Callable[[Line], bool]) -> Movement:
    """The movement of the lines stored after `known_at` that `keep` selects (nothing when now)."""
    if known_at is None:
        return Movement()
    return Movement.of_lines(line for line in journal.stored_after(tenant, currency, known_at) if keep(line))


def balances(tenant: str, currency: str, day: date, known_at: str | None) -> Movement:
    """Every line valid on or before `day`, as known at `known_at`."""
    last = day.isoformat()
    now = journal.movement(tenant, currency, None, day)
    return now.add(_after(tenant, currency, known_at, lambda line: line.valid_date <= last), -1)


def activity(tenant: str, currency: str, first: date, last: date, known_at: str | None) -> Movement:
    """The lines valid within [first, last], as known at `known_at`."""
    low, high = first.isoformat(), last.isoformat()
    now = journal.movement(tenant, currency, first, last)
    return now.add(_after(tenant, currency, known_at, lambda line: low <= line.valid_date <= high), -1)


def balance_sheet(tenant: str, currency: str, day: date, known_at: str | None) -> dict[str, Any]:
    return reports.balance_sheet(balances(tenant, currency, day, known_at))


def income_statement(tenant: str, currency: str, first: date, last: date, known_at: str | None) -> dict[str, Any]:
    return reports.income_statement(activity(tenant, currency, first, last, known_at))


def cash_flow(tenant: str, currency: str, first: date, last: date, known_at: str | None) -> dict[str, Any]:
    beginning = balances(tenant, currency, first - timedelta(days=1), known_at)
    return reports.cash_flow(beginning, activity(tenant, currency, first, last, known_at))


# portfolio ----------------------------------------------------------------------------------


def _all(tenant: str, table: str) -> list[dict[str, Any]]:
    found, start = [], None
    while True:
        page = reads.list_records(tenant, table, limit=PAGE, start_key=start)
        found += page.items
        if not page.last_key:
            return found
        start = page.last_key


def _known(tenant: str, table: str, record: dict[str, Any], known_at: str) -> list[dict[str, Any]]:
    """The record's versions stored by `known_at`, oldest first."""
    versions = reads.record_versions(tenant, table, record[_ID[table]]) or []
    return [v for v in versions if v["system_from"] <= known_at]


_ID = {"disbursements": "disbursement_id", "payments": "payment_id", "clients": "client_id"}


def _first_day(versions: list[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> str | None:
    return next((v["valid_from"][:10] for v in versions if test(v["record"])), None)


def portfolio(tenant: str, currency: str, day: date, known_at: str) -> dict[str, Any]:
    """Reads the tenant's disbursements and payments (current items; the versions of those changed
    after `known_at`, deleted or written off) and the receivable lines valid by `day`."""
    payments: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for payment in _all(tenant, "payments"):
        if payment.get("currency") != currency:
            continue
        if payment["updated_at"] > known_at:
            versions = _known(tenant, "payments", payment, known_at)
            if not versions:
                continue
            payment = versions[-1]["record"]
        payments[payment["disbursement_id"]].append(payment)
    last = day.isoformat()
    receivables = reports.receivable_of(
        line for line in journal.lines_valid_through(tenant, currency, day) if line.system_from <= known_at)
    loans = []
    for disbursement in _all(tenant, "disbursements"):
        if disbursement.get("currency") != currency:
            continue
        deleted_on = written_off_on = None
        settled_past = disbursement["updated_at"] <= known_at
        if not settled_past or disbursement.get("deleted") or disbursement.get("disbursement_amount") == 0:
            versions = _known(tenant, "disbursements", disbursement, known_at)
            if not versions:
                continue
            disbursement = versions[-1]["record"]
            deleted_on = _first_day(versions, lambda r: bool(r.get("deleted")))
            written_off_on = _first_day(versions, lambda r: r.get("disbursement_amount") == 0)
        start = disbursement.get("disbursement_date") or disbursement.get("operation_date") or last
        loans.append(LoanFacts(disbursement["disbursement_id"], start[:10], deleted_on, written_off_on,
                               tuple(payments.get(disbursement["disbursement_id"], ())),
                               receivables.get(disbursement["disbursement_id"], ZERO)))
    return reports.portfolio(loans, last)


# client analytics ----------------------------------------------------------------------------


def client_analytics(tenant: str, first: date, last: date, known_at: str) -> dict[str, Any]:
    """Reads every client's versions (one query per client)."""
    versions = {client["client_id"]: reads.record_versions(tenant, "clients", client["client_id"]) or []
                for client in _all(tenant, "clients")}
    return reports.client_timeline(versions, first.isoformat(), last.isoformat(), known_at)
