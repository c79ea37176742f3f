"""Reports from the journal: balance sheet, income statement, cash flow, portfolio, client analytics. Pure.

The accounting reports are functions of `Movement`s: the sum of lines over a span of valid days
(per account net debit, cash split by activity, rebates granted). A stored total is a Movement
of one valid day (or month), so a report reads totals, not lines; for a past `known_at` K the
Movement of the lines stored after K is subtracted (`Movement.of_lines`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerline.domain.category import changed_fields
from ledgerline.domain.journal import (
    CASH,
    CHART,
    CREDIT_LOSSES,
    INVESTING,
    OPERATING,
    RECEIVABLES,
    RETAINED_EARNINGS,
    ZERO,
    Line,
    Version,
)
from ledgerline.domain.values import strip_zeros

FLOWS = ("operating_in", "operating_out", "investing_in", "investing_out")
REBATES = "rebates"


def plain(amount: Decimal) -> Decimal:
    """An exact amount that JSON writes as a plain number (no exponent, no trailing zeros)."""
    stripped = strip_zeros(Decimal(amount))
    return stripped.quantize(Decimal(1)) if stripped.as_tuple().exponent > 0 else stripped


@dataclass
class Movement:
    """Sums over some lines: net debit per account, cash in and out by activity, rebates (memo)."""

    nets: dict[str, Decimal] = field(default_factory=dict)
    flows: dict[str, Decimal] = field(default_factory=dict)
    rebates: Decimal = ZERO

    def add(self, other: Movement, sign: int = 1) -> Movement:
        for account, value in other.nets.items():
            self.nets[account] = self.nets.get(account, ZERO) + sign * value
        for name, value in other.flows.items():
            self.flows[name] = self.flows.get(name, ZERO) + sign * value
        self.rebates += sign * other.rebates
        return self

    def net(self, account: str) -> Decimal:
        return self.nets.get(account, ZERO)

    def flow(self, name: str) -> Decimal:
        return self.flows.get(name, ZERO)

    @classmethod
    def of_line(cls, line: Line) -> Movement:
        moved = cls()
        if line.account is not None:
            moved.nets[line.account] = line.net
        moved.flows.update(line.flows)
        moved.rebates = line.memo_amount
        return moved

    @classmethod
    def of_lines(cls, lines: Iterable[Line]) -> Movement:
        total = cls()
        for line in lines:
            total.add(cls.of_line(line))
        return total


def _signed_balance(kind: str, net_debit: Decimal) -> Decimal:
    """Balance in the account's normal direction: debit for assets and expenses, credit otherwise."""
    return net_debit if kind in ("asset", "expense") else -net_debit


def retained_earnings(balances: Movement) -> Decimal:
    """Income minus expenses over every line counted: minus the net debit of every 4xxx and 5xxx."""
    return -sum((balances.net(a.code) for a in CHART if a.kind in ("revenue", "expense")), ZERO)


def balance_sheet(balances: Movement) -> dict[str, Any]:
    """The balance sheet from every line valid on or before the date (balanced by construction:
    each entry balances, so assets = income − expenses = retained earnings)."""
    assets = [{"code": a.code, "name": a.name, "balance": plain(balances.net(a.code))}
              for a in CHART if a.kind == "asset"]
    equity = [{"code": a.code, "name": a.name, "balance": plain(retained_earnings(balances))}
              for a in CHART if a.code == RETAINED_EARNINGS]
    assets_total = sum((a["balance"] for a in assets), ZERO)
    liabilities_and_equity = sum((e["balance"] for e in equity), ZERO)
    return {
        "assets": {"accounts": assets, "total": plain(assets_total)},
        "liabilities": {"accounts": [], "total": 0},
        "equity": {"accounts": equity, "total": plain(liabilities_and_equity)},
        "balance_check": {"assets_total": plain(assets_total),
                          "liabilities_and_equity_total": plain(liabilities_and_equity),
                          "balanced": assets_total == liabilities_and_equity},
    }


def income_statement(activity: Movement) -> dict[str, Any]:
    """Income and expenses of the lines valid within the period; write-offs and rebates as memo."""
    def section(kind: str) -> dict[str, Any]:
        accounts = [{"code": a.code, "name": a.name, "activity": plain(_signed_balance(kind, activity.net(a.code)))}
                    for a in CHART if a.kind == kind]
        return {"accounts": accounts, "total": plain(sum((a["activity"] for a in accounts), ZERO))}

    revenue, expenses = section("revenue"), section("expense")
    return {
        "revenue": revenue,
        "expenses": expenses,
        "net_income": plain(revenue["total"] - expenses["total"]),
        "memo": {"rebates_granted": plain(activity.rebates),
                 "write_offs": plain(activity.net(CREDIT_LOSSES))},
    }


def cash_flow(beginning: Movement, activity: Movement) -> dict[str, Any]:
    """Cash at the start, what came in and went out by activity within the period, cash at the end."""
    def section(activity_name: str) -> dict[str, Any]:
        inflows, outflows = activity.flow(f"{activity_name}_in"), activity.flow(f"{activity_name}_out")
        return {"inflows": plain(inflows), "outflows": plain(outflows), "net": plain(inflows - outflows)}

    operating, investing = section(OPERATING), section(INVESTING)
    financing = {"inflows": 0, "outflows": 0, "net": 0}  # reserved until funding events exist
    net_change = operating["net"] + investing["net"]
    start = beginning.net(CASH)
    return {
        "beginning_balance": plain(start),
        "operating": operating,
        "investing": investing,
        "financing": financing,
        "net_change": plain(net_change),
        "ending_balance": plain(start + net_change),
    }


# portfolio --------------------------------------------------------------------------------

AGING_BUCKETS = (("current", 0, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("91+", 91, None))
STATUSES = ("ongoing", "overdue", "settled", "written_off", "canceled")
PAR_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class LoanFacts:
    """One disbursement as known at K, in business time: what the portfolio needs of it."""

    disbursement_id: str
    start: str  # disbursement_date (loan) / operation_date (purchase)
    deleted_on: str | None  # the delete's valid day
    written_off_on: str | None  # the valid day its amount reached 0
    payments: tuple[dict[str, Any], ...]  # payment records as known at K
    outstanding: Decimal  # its receivable balance as of the date


def _paid_by(payment: dict[str, Any], day: str) -> bool:
    paid_on = (payment.get("payment_date") or payment["due_date"])[:10]
    return payment.get("status") == "paid" and paid_on <= day


def days_past_due(payments: Iterable[dict[str, Any]], day: str) -> int:
    """`day` − the oldest due date before it of a payment unpaid on `day` (0 when none)."""
    unpaid = [p["due_date"][:10] for p in payments
              if p.get("status") != "canceled" and not p.get("deleted") and not _paid_by(p, day)
              and p["due_date"][:10] < day]
    if not unpaid:
        return 0
    return (date.fromisoformat(day) - date.fromisoformat(min(unpaid))).days


def status_on(loan: LoanFacts, day: str) -> str:
    if loan.deleted_on is not None and loan.deleted_on <= day:
        return "canceled"
    if loan.written_off_on is not None and loan.written_off_on <= day:
        return "written_off"
    live = [p for p in loan.payments if p.get("status") != "canceled" and not p.get("deleted")]
    if live and all(_paid_by(p, day) for p in live):
        return "settled"
    return "overdue" if days_past_due(loan.payments, day) > 0 else "ongoing"


def _bucket(days: int) -> str:
    for name, low, high in AGING_BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return AGING_BUCKETS[0][0]


def portfolio(loans: Iterable[LoanFacts], day: str) -> dict[str, Any]:
    """Counts and outstanding by status and by days past due, and PAR30, as of `day`."""
    by_status = {name: {"count": 0, "outstanding": ZERO} for name in STATUSES}
    aging = {name: {"bucket": name, "count": 0, "outstanding": ZERO} for name, _, _ in AGING_BUCKETS}
    count, outstanding, at_risk = 0, ZERO, ZERO
    for loan in loans:
        if loan.start > day:
            continue
        status = status_on(loan, day)
        by_status[status]["count"] += 1
        by_status[status]["outstanding"] += loan.outstanding
        if status == "canceled":
            continue
        late = days_past_due(loan.payments, day)
        count += 1
        outstanding += loan.outstanding
        bucket = aging[_bucket(late)]
        bucket["count"] += 1
        bucket["outstanding"] += loan.outstanding
        if late > 30:
            at_risk += loan.outstanding
    par30 = (at_risk / outstanding).quantize(PAR_PLACES) if outstanding > 0 else ZERO.quantize(PAR_PLACES)
    return {
        "totals": {"disbursements": count, "outstanding": plain(outstanding)},
        "by_status": {name: {"count": v["count"], "outstanding": plain(v["outstanding"])} for name, v in by_status.items()},
        "aging": [{**v, "outstanding": plain(v["outstanding"])} for v in aging.values()],
        "par30": par30,
    }


# A disbursement's portfolio facts: what the portfolio needs of it and of its payments, each fact
# tagged with the system time of the version (or journal change) that stated it, so one item
# answers "as known at K" by dropping the facts stored after K. Fact names hold the version, so
# writing one again is a no-op whatever the order the worker sees changes in.
DISBURSEMENT_FACT, PAYMENT_FACT, RECEIVABLE_FACT = "d~", "p~", "r~"


def _disbursement_fact(version: Version) -> dict[str, Any]:
    record = version.record
    start = record.get("disbursement_date") or record.get("operation_date")
    return {"s": version.system_from, "v": version.valid_from[:10], "start": start[:10] if start else None,
            "deleted": version.deleted, "zero": record.get("disbursement_amount") == 0}


def _payment_fact(version: Version) -> dict[str, Any]:
    record = version.record
    paid_on = record.get("payment_date")
    return {"s": version.system_from, "due": record["due_date"][:10], "paid": paid_on[:10] if paid_on else None,
            "status": record.get("status"), "deleted": version.deleted}


def _unstamped(fact: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fact.items() if name not in ("s", "v")}


def version_facts(old: Version | None, new: Version) -> dict[str, dict[str, Any]]:
    """The facts a change of a disbursement or payment adds to its disbursement's item: none when it
    changes nothing the portfolio reads (an amount, a note), or comes after a delete."""
    if old is not None and old.deleted:
        return {}
    if new.table == "disbursements":
        fact, name = _disbursement_fact, f"{DISBURSEMENT_FACT}{new.version:010d}"
    elif new.table == "payments":
        fact, name = _payment_fact, f"{PAYMENT_FACT}{new.id}~{new.version:010d}"
    else:
        return {}
    made = fact(new)
    if old is not None and _unstamped(fact(old)) == _unstamped(made):
        return {}
    return {name: made}


def receivable_facts(lines: list[Line]) -> dict[str, dict[str, Any]]:
    """The receivable movement of one change's lines, by valid day: `{r~{cause}: {s, m: {day: net}}}`."""
    moved: dict[str, Decimal] = {}
    for line in lines:
        if line.account in RECEIVABLES and line.disbursement_id:
            moved[line.valid_date] = moved.get(line.valid_date, ZERO) + line.net
    if not moved:
        return {}
    first = lines[0]
    cause = first.line_id.rsplit("~", 1)[0]
    return {f"{RECEIVABLE_FACT}{cause}": {"s": first.system_from, "m": moved}}


def loan_known_at(disbursement_id: str, facts: dict[str, Any], day: str, known_at: str) -> LoanFacts | None:
    """The disbursement as known at `known_at` from its facts; None when no version of it was stored by then."""
    versions = [facts[name] for name in sorted(facts) if name.startswith(DISBURSEMENT_FACT)
                and facts[name]["s"] <= known_at]
    if not versions:
        return None
    latest_payment: dict[str, dict[str, Any]] = {}
    for name in sorted(n for n in facts if n.startswith(PAYMENT_FACT)):
        fact = facts[name]
        if fact["s"] <= known_at:
            latest_payment[name[len(PAYMENT_FACT):].rsplit("~", 1)[0]] = fact
    payments = tuple({"due_date": f["due"], "payment_date": f["paid"], "status": f["status"],
                      "deleted": f["deleted"]} for f in latest_payment.values())
    outstanding = sum((Decimal(net) for name, fact in facts.items()
                       if name.startswith(RECEIVABLE_FACT) and fact["s"] <= known_at
                       for valid, net in fact["m"].items() if valid <= day), ZERO)
    return LoanFacts(
        disbursement_id, versions[-1]["start"] or day,
        next((v["v"] for v in versions if v["deleted"]), None),
        next((v["v"] for v in versions if v["zero"]), None),
        payments, outstanding)


# client analytics -------------------------------------------------------------------------

CLIENT_META = ("version", "created_at", "updated_at", "deleted")


def client_movement(previous: dict[str, Any] | None, version: Version) -> dict[str, Any]:
    """What one version of a client did to the registry, on its valid day: its creation
    (`addition`, with its initial fields), its deletion (`removal`) or a `change` (each changed
    field's old and new value)."""
    record, before = version.record, previous or {}
    if version.version == 1 or previous is None:
        change_type = "addition"
        fields = {k: {"old": None, "new": v} for k, v in record.items() if k not in CLIENT_META}
    elif record.get("deleted") and not before.get("deleted"):
        change_type, fields = "removal", {}
    else:
        change_type = "change"
        fields = {name: {"old": before.get(name), "new": record.get(name)}
                  for name in changed_fields(before, record) if name not in CLIENT_META}
    return {"date": version.valid_from[:10], "change_type": change_type, "client_id": version.id,
            "name": record.get("name", before.get("name")), "fields": fields}


def client_analytics(movements: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The summary and timeline of movements (given in timeline order: date, client, version)."""
    timeline = list(movements)
    summary = {
        "additions": sum(1 for t in timeline if t["change_type"] == "addition"),
        "removals": sum(1 for t in timeline if t["change_type"] == "removal"),
        "changes": sum(1 for t in timeline if t["change_type"] == "change"),
    }
    summary["total_changes"] = len(timeline)
    return {"summary": summary, "timeline": timeline}


def day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()
