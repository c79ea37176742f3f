"""The report use cases: read what a report needs (totals, lines, records), compute it (pure).

`known_at` None means now: the totals are the answer. A past `known_at` K subtracts the lines
stored after K (valid within the report's span), so the answer is exactly what a report
computed at K would have been, once the worker had processed everything stored by K.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ledgerline.domain import reports
from ledgerline.domain.journal import Line
from ledgerline.domain.reports import Movement
from ledgerline.store import client_movements, journal
from ledgerline.store import portfolio as portfolio_facts


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
    # nothing is valid before the first day a date can name
    beginning = Movement() if first == date.min else balances(tenant, currency, first - timedelta(days=1), known_at)
    return reports.cash_flow(beginning, activity(tenant, currency, first, last, known_at))


# portfolio ----------------------------------------------------------------------------------


def portfolio(tenant: str, currency: str, day: date, known_at: str) -> dict[str, Any]:
    """Reads the disbursements' portfolio facts (one item each), keeping what was stored by `known_at`."""
    last = day.isoformat()
    loans = (reports.loan_known_at(disbursement_id, facts, last, known_at)
             for disbursement_id, facts in portfolio_facts.all_facts(tenant, currency))
    return reports.portfolio((loan for loan in loans if loan is not None), last)


# client analytics ----------------------------------------------------------------------------


def client_analytics(tenant: str, first: date, last: date, known_at: str) -> dict[str, Any]:
    """Reads the registry's movements valid within the period (one item each)."""
    return reports.client_analytics(client_movements.movements(tenant, first, last, known_at))
