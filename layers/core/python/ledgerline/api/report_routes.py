"""GET /api/reports/...: balance sheet, income statement, cash flow, portfolio, client analytics,
journal drill-down. Read scope, inside the caller's tenant; every answer carries an ETag.

A report whose `known_at` is given, in the past and older than `SETTLED_AFTER` (what the worker
has processed by then can no longer change it) is cached as immutable; the others are
revalidated (`no-cache`). A matching If-None-Match answers 304.
"""


import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import TypeAdapter, ValidationError

from ledgerline import reporting
from ledgerline.api import cursor as cursors
from ledgerline.api.caller import caller_from
from ledgerline.api.http import JSON
from ledgerline.api.problems import ProblemError
from ledgerline.api.report_models import (
    BalanceSheet,
    CashFlow,
    ClientAnalytics,
    IncomeStatement,
    JournalPage,
    Portfolio,
    report_answers,
)
from ledgerline.domain.errors import Violation
from ledgerline.domain.journal import ACCOUNTS, POSTING_ACCOUNTS, Line
from ledgerline.domain.jsonio import dumps
from ledgerline.domain.reports import plain
from ledgerline.domain.values import ID_PATTERN, Currency, instant, parse_when
from ledgerline.observability import tracer
from ledgerline.store import journal
from ledgerline.store.keys import system_time

router = APIGatewayRouter()
SETTLED_AFTER = timedelta(minutes=15)  # three times the worker's iterator-age alarm (infra/worker.py)
IMMUTABLE = "private, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"
MAX_PAGE = 500
_CURRENCY = TypeAdapter(Currency)

DayParam = Annotated[str | None, Query(description="a date, YYYY-MM-DD (required; the whole day is included)")]
CurrencyParam = Annotated[str | None, Query(description="ISO 4217 code (required): currencies are never added up")]
KnownAtParam = Annotated[str | None, Query(description="system time of the knowledge (timestamp); default now")]
IfNoneMatch = Annotated[str | list[str] | None, Header(alias="If-None-Match",
                                                      description="ETag(s) of answers held: 304 when one matches")]


class Params:
    """Collects every violation of a report's parameters, to answer them all at once."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def day(self, name: str, value: str | None) -> date:
        if value is None:
            self.violations.append(Violation(name, "required", "is required"))
            return date.min
        try:
            return date.fromisoformat(parse_when(value)[0][:10])
        except ValueError:
            self.violations.append(Violation(name, "invalid-date", "must be an ISO 8601 date (YYYY-MM-DD)"))
            return date.min

    def span(self, first: str | None, last: str | None) -> tuple[date, date]:
        low, high = self.day("from", first), self.day("to", last)
        if low != date.min and high != date.min and low > high:
            self.violations.append(Violation("from", "date-order", "must not be after to"))
        return low, high

    def currency(self, value: str | None) -> str:
        if value is None:
            self.violations.append(Violation("currency", "required", "is required (ISO 4217)"))
            return ""
        try:
            return _CURRENCY.validate_python(value)
        except ValidationError:
            self.violations.append(Violation("currency", "invalid-currency", "must be an ISO 4217 currency code"))
            return ""

    def known_at(self, value: str | None) -> str | None:
        """The normalised system time, None when not given."""
        if value is None:
            return None
        try:
            moment = instant(parse_when(value)[0]).astimezone(UTC)
        except ValueError:
            self.violations.append(Violation("known_at", "invalid-date", "must be an ISO 8601 timestamp"))
            return None
        # the stored system times' fixed width (strftime would not pad a year before 1000)
        return f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S.%fZ")

    def account(self, value: str | None) -> str | None:
        if value is not None and value not in POSTING_ACCOUNTS:
            self.violations.append(Violation("account", "unknown-account",
                                             f"must be one of {', '.join(POSTING_ACCOUNTS)}"))
        return value

    def id(self, name: str, value: str | None) -> str | None:
        if value is not None and not ID_PATTERN.fullmatch(value):
            self.violations.append(Violation(name, "invalid-id", "must be a valid id"))
        return value

    def check(self) -> None:
        if self.violations:
            raise ProblemError("validation-error", "A parameter is invalid.", status=400,
                               errors=[v.as_dict() for v in self.violations])


def _tenant() -> str:
    return caller_from(router.current_event.raw_event.get("requestContext"), "read").tenant_id


def _now() -> datetime:
    return datetime.now(UTC)


def _known(given: str | None) -> str:
    return given or system_time(_now())


def _if_none_match(declared: str | list[str] | None) -> list[str]:
    """The entity tags of If-None-Match (also when a client sends the header name in lower case)."""
    headers = router.current_event.raw_event.get("headers") or {}
    value = declared or next((v for k, v in headers.items() if k.lower() == "if-none-match" and v), "")
    text = ",".join(value) if isinstance(value, list) else value
    return [tag.strip().removeprefix("W/") for tag in text.split(",") if tag.strip()]


def cached(body: dict[str, Any], known_at_given: str | None, if_none_match: str | list[str] | None) -> Response:
    """The answer with its ETag and cache policy; 304 when the client holds it already.

    Without a given known_at the answer is "as known now": its tag covers the figures, not the
    moment, so a client revalidating gets 304 for as long as nothing it shows has changed.
    """
    text = dumps(body)
    tagged = text if known_at_given is not None else dumps({k: v for k, v in body.items() if k != "known_at"})
    etag = '"' + hashlib.sha256(tagged.encode("utf-8")).hexdigest()[:32] + '"'
    settled = known_at_given is not None and instant(known_at_given) <= _now() - SETTLED_AFTER
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE if settled else REVALIDATE}
    wanted = _if_none_match(if_none_match)
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers, body="")
    return Response(status_code=200, content_type=JSON, body=text, headers=headers)


@router.get("/api/reports/balance-sheet", summary="Balance sheet as of a date", tags=["reports"],
            responses=report_answers(BalanceSheet))
@tracer.capture_method
def balance_sheet(as_of: DayParam = None, currency: CurrencyParam = None, known_at: KnownAtParam = None,
                  if_none_match: IfNoneMatch = None):
    tenant = _tenant()
    params = Params()
    day, code, given = params.day("as_of", as_of), params.currency(currency), params.known_at(known_at)
    params.check()
    body = reporting.balance_sheet(tenant, code, day, given)
    return cached({"report": "balance-sheet", "as_of": day.isoformat(), "known_at": _known(given),
                   "currency": code, **body}, given, if_none_match)


@router.get("/api/reports/income-statement", summary="Income statement over a period", tags=["reports"],
            responses=report_answers(IncomeStatement))
@tracer.capture_method
def income_statement(
    first: Annotated[str | None, Query(alias="from", description="first day, inclusive (required)")] = None,
    last: Annotated[str | None, Query(alias="to", description="last day, inclusive (required)")] = None,
    currency: CurrencyParam = None,
    known_at: KnownAtParam = None,
    if_none_match: IfNoneMatch = None,
):
    return _period_report("income-statement", reporting.income_statement, first, last, currency, known_at,
                          if_none_match)


@router.get("/api/reports/cash-flow", summary="Cash flow over a period", tags=["reports"],
            responses=report_answers(CashFlow))
@tracer.capture_method
def cash_flow(
    first: Annotated[str | None, Query(alias="from", description="first day, inclusive (required)")] = None,
    last: Annotated[str | None, Query(alias="to", description="last day, inclusive (required)")] = None,
    currency: CurrencyParam = None,
    known_at: KnownAtParam = None,
    if_none_match: IfNoneMatch = None,
):
    return _period_report("cash-flow", reporting.cash_flow, first, last, currency, known_at, if_none_match)


def _period_report(name, compute, first, last, currency, known_at, if_none_match):
    """A report over [from, to] in one currency: parameters checked together, then cached."""
    tenant = _tenant()
    params = Params()
    (low, high), code, given = params.span(first, last), params.currency(currency), params.known_at(known_at)
    params.check()
    body = compute(tenant, code, low, high, given)
    return cached({"report": name, "from": low.isoformat(), "to": high.isoformat(),
                   "known_at": _known(given), "currency": code, **body}, given, if_none_match)


@router.get("/api/reports/portfolio", summary="Portfolio: status, aging and PAR30 as of a date", tags=["reports"],
            responses=report_answers(Portfolio))
@tracer.capture_method
def portfolio(as_of: DayParam = None, currency: CurrencyParam = None, known_at: KnownAtParam = None,
              if_none_match: IfNoneMatch = None):
    tenant = _tenant()
    params = Params()
    day, code, given = params.day("as_of", as_of), params.currency(currency), params.known_at(known_at)
    params.check()
    known = _known(given)
    body = reporting.portfolio(tenant, code, day, known)
    return cached({"report": "portfolio", "as_of": day.isoformat(), "known_at": known, "currency": code, **body},
                  given, if_none_match)


@router.get("/api/reports/analytics/clients", summary="The client registry's movements over a period",
            tags=["reports"], responses=report_answers(ClientAnalytics))
@tracer.capture_method
def client_analytics(
    first: Annotated[str | None, Query(alias="from", description="first day, inclusive (required)")] = None,
    last: Annotated[str | None, Query(alias="to", description="last day, inclusive (required)")] = None,
    known_at: KnownAtParam = None,
    if_none_match: IfNoneMatch = None,
):
    tenant = _tenant()
    params = Params()
    (low, high), given = params.span(first, last), params.known_at(known_at)
    params.check()
    known = _known(given)
    body = reporting.client_analytics(tenant, low, high, known)
    return cached({"report": "client-analytics", "from": low.isoformat(), "to": high.isoformat(),
                   "known_at": known, **body}, given, if_none_match)


@router.get("/api/reports/journal", summary="The journal lines behind any figure", tags=["reports"],
            responses=report_answers(JournalPage))
@tracer.capture_method
def journal_lines(
    first: Annotated[str | None, Query(alias="from", description="first valid day, inclusive (required)")] = None,
    last: Annotated[str | None, Query(alias="to", description="last valid day, inclusive (required)")] = None,
    currency: CurrencyParam = None,
    account: Annotated[str | None, Query(description="only this account's lines")] = None,
    disbursement_id: Annotated[str | None, Query(description="only this disbursement's lines")] = None,
    known_at: KnownAtParam = None,
    limit: Annotated[int, Query(ge=1, description=f"page size, at most {MAX_PAGE}")] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    if_none_match: IfNoneMatch = None,
):
    tenant = _tenant()
    params = Params()
    (low, high), code = params.span(first, last), params.currency(currency)
    account, given = params.account(account), params.known_at(known_at)
    params.id("disbursement_id", disbursement_id)
    params.check()
    filters = {"from": low.isoformat(), "to": high.isoformat(), "currency": code, "account": account,
               "disbursement_id": disbursement_id, "known_at": given}
    start_key = cursors.decode(cursor, tenant, "journal", filters) if cursor else None
    page = journal.lines_page(tenant, code, low, high, limit=min(limit, MAX_PAGE), start_key=start_key,
                              account=account, disbursement_id=disbursement_id, known_at=given)
    next_cursor = cursors.encode(tenant, "journal", filters, page.last_key) if page.last_key else None
    return cached({"report": "journal", "from": low.isoformat(), "to": high.isoformat(), "known_at": _known(given),
                   "currency": code, "lines": [line_body(line) for line in page.lines],
                   "next_cursor": next_cursor}, given, if_none_match)


def line_body(line: Line) -> dict[str, Any]:
    body = {
        "line_id": line.line_id, "valid_date": line.valid_date, "system_from": line.system_from,
        "account": line.account, "account_name": ACCOUNTS[line.account].name if line.account else None,
        "debit": plain(line.debit), "credit": plain(line.credit), "disbursement_id": line.disbursement_id,
        "memo": line.memo, "cause": line.cause,
    }
    if line.memo_amount:
        body["memo_amount"] = plain(line.memo_amount)
    return body
