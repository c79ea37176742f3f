"""Report response shapes, for the OpenAPI document (the routes build plain dicts of the same shape)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from ledgerline.api.models import answers

# Money in reports is an exact decimal written as a plain JSON number (never a string, never in
# exponent form); pydantic would describe a Decimal as a string.
Amount = Annotated[Decimal, WithJsonSchema({"type": "number", "description": "an exact decimal amount"})]
Inflow = Annotated[Decimal, WithJsonSchema({"type": "number", "minimum": 0,
                                            "description": "an exact decimal amount, at least 0"})]
Ratio = Annotated[Decimal, WithJsonSchema({"type": "number"})]


class Shape(BaseModel):
    """A response shape: only the OpenAPI document reads it, so nothing is built at cold start."""

    model_config = ConfigDict(defer_build=True)


class AccountBalance(Shape):
    code: str = Field(examples=["1100"])
    name: str = Field(examples=["Loans receivable"])
    balance: Amount


class Section(Shape):
    accounts: list[AccountBalance]
    total: Amount


class BalanceCheck(Shape):
    assets_total: Amount
    liabilities_and_equity_total: Amount
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
    activity: Amount


class ActivitySection(Shape):
    accounts: list[AccountActivity]
    total: Amount


class IncomeMemo(Shape):
    rebates_granted: Amount
    write_offs: Amount


class IncomeStatement(Shape):
    report: Literal["income-statement"]
    from_: str = Field(alias="from")
    to: str
    known_at: str
    currency: str
    revenue: ActivitySection
    expenses: ActivitySection
    net_income: Amount
    memo: IncomeMemo


class Flows(Shape):
    inflows: Inflow
    outflows: Inflow
    net: Amount


class CashFlow(Shape):
    report: Literal["cash-flow"]
    from_: str = Field(alias="from")
    to: str
    known_at: str
    currency: str
    beginning_balance: Amount
    operating: Flows
    investing: Flows
    financing: Flows = Field(description="reserved: zero until funding events exist")
    net_change: Amount
    ending_balance: Amount = Field(description="equals account 1000 on the balance sheet as of `to`")


class CountAndOutstanding(Shape):
    count: int
    outstanding: Amount


class PortfolioTotals(Shape):
    disbursements: int
    outstanding: Amount


class AgingBucket(Shape):
    bucket: Literal["current", "1-30", "31-60", "61-90", "91+"]
    count: int
    outstanding: Amount


class Portfolio(Shape):
    report: Literal["portfolio"]
    as_of: str
    known_at: str
    currency: str
    totals: PortfolioTotals
    by_status: dict[Literal["ongoing", "overdue", "settled", "written_off", "canceled"], CountAndOutstanding]
    aging: list[AgingBucket]
    par30: Ratio = Field(description="outstanding more than 30 days past due / total outstanding, 6 places")


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
    debit: Amount
    credit: Amount
    disbursement_id: str | None
    memo: str
    memo_amount: Amount | None = None
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
