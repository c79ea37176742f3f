"""Report response shapes, for the OpenAPI document (the routes build plain dicts of the same shape)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerline.api.models import answers


class Shape(BaseModel):
    """A response shape: only the OpenAPI document reads it, so nothing is built at cold start."""

    model_config = ConfigDict(defer_build=True)


class AccountBalance(Shape):
    code: str = Field(examples=["1100"])
    name: str = Field(examples=["Loans receivable"])
    balance: Decimal


class Section(Shape):
    accounts: list[AccountBalance]
    total: Decimal


class BalanceCheck(Shape):
    assets_total: Decimal
    liabilities_and_equity_total: Decimal
    balanced: bool


class BalanceSheet(Shape):
    report: Literal["balance-sheet"]
    as_of: str
    known_at: str
    currency: str
    assets: Section
    liabilities: Section
    equity: Section
    balance_check: BalanceCheck


class AccountActivity(Shape):
    code: str
    name: str
    activity: Decimal


class ActivitySection(Shape):
    accounts: list[AccountActivity]
    total: Decimal


class IncomeMemo(Shape):
    rebates_granted: Decimal
    write_offs: Decimal


class IncomeStatement(Shape):
    report: Literal["income-statement"]
    from_: str = Field(alias="from")
    to: str
    known_at: str
    currency: str
    revenue: ActivitySection
    expenses: ActivitySection
    net_income: Decimal
    memo: IncomeMemo


class Flows(Shape):
    inflows: Decimal = Field(ge=0)
    outflows: Decimal = Field(ge=0)
    net: Decimal


class CashFlow(Shape):
    report: Literal["cash-flow"]
    from_: str = Field(alias="from")
    to: str
    known_at: str
    currency: str
    beginning_balance: Decimal
    operating: Flows
    investing: Flows
    financing: Flows = Field(description="reserved: zero until funding events exist")
    net_change: Decimal
    ending_balance: Decimal = Field(description="equals account 1000 on the balance sheet as of `to`")


class CountAndOutstanding(Shape):
    count: int
    outstanding: Decimal


class PortfolioTotals(Shape):
    disbursements: int
    outstanding: Decimal


class AgingBucket(Shape):
    bucket: Literal["current", "1-30", "31-60", "61-90", "91+"]
    count: int
    outstanding: Decimal


class Portfolio(Shape):
    report: Literal["portfolio"]
    as_of: str
    known_at: str
    currency: str
    totals: PortfolioTotals
    by_status: dict[Literal["ongoing", "overdue", "settled", "written_off", "canceled"], CountAndOutstanding]
    aging: list[AgingBucket]
    par30: Decimal = Field(description="outstanding more than 30 days past due / total outstanding, 6 places")


class ClientSummary(Shape):
    additions: int
    removals: int
    changes: int
    total_changes: int


class ClientMovement(Shape):
    date: str
    change_type: Literal["addition", "removal", "change"]
    client_id: str
    name: str | None
    fields: dict[str, dict[str, Any]] = Field(description="field -> {old, new}")


class ClientAnalytics(Shape):
    report: Literal["client-analytics"]
    from_: str = Field(alias="from")
    to: str
    known_at: str
    summary: ClientSummary
    timeline: list[ClientMovement]


class LineCause(Shape):
    table: str
    id: str
    version: int
    event_id: str


class JournalLine(Shape):
    line_id: str
    valid_date: str
    system_from: str
    account: str | None = Field(description="null on a memo line (a rebate granted)")
    account_name: str | None
    debit: Decimal
    credit: Decimal
    disbursement_id: str | None
    memo: str
    memo_amount: Decimal | None = None
    cause: LineCause


class JournalPage(Shape):
    report: Literal["journal"]
    from_: str = Field(alias="from")
    to: str
    known_at: str
    currency: str
    lines: list[JournalLine]
    next_cursor: str | None


def report_answers(ok: type[BaseModel]) -> dict[int, dict[str, Any]]:
    """200 (with ETag and Cache-Control), 304 for a matching If-None-Match, and the problems."""
    result = answers(ok, 400)
    result[200]["headers"] = {
        "ETag": {"description": "the answer's entity tag", "schema": {"type": "string"}},
        "Cache-Control": {"description": "immutable for a settled past known_at, else no-cache",
                          "schema": {"type": "string"}},
    }
    result[304] = {"description": "not modified: the If-None-Match tag still matches"}
    return result
