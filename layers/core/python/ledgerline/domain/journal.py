"""The journal: balanced double-entry lines from changes of source records. Pure (no AWS, no clock).

`post(old, new, position, kind)` turns one accepted change (the previous and the new version of a
disbursement, payment or operation) into lines, by the posting rules of docs/reports.md (cash
basis). Lines are never edited: a correction appends a reversal and new lines. Each line carries
the valid date of what it records, the system time of the source version (not the worker's
clock), and its cause; its id is built from the cause, so a redelivered change yields the same
ids and the store writes them once.

Lines are grouped in entries. An entry either holds no cash or holds one cash line against
non-cash lines on the other side, so the cash amount splits exactly across them: the part
against a receivable (1100, 1200) is investing, the part against income and expenses (4xxx,
5xxx) operating. That split travels with the cash line (`flows`), for the cash-flow report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CASH = "1000"
LOANS = "1100"
PURCHASES = "1200"
RETAINED_EARNINGS = "3100"
MARGIN_INCOME = "4000"
FEE_INCOME = "4100"
OTHER_REVENUE = "4200"
CREDIT_LOSSES = "5000"
OPERATING_COSTS = "5100"


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    kind: str  # asset | liability | equity | revenue | expense


CHART = (
    Account(CASH, "Cash", "asset"),
    Account(LOANS, "Loans receivable", "asset"),
    Account(PURCHASES, "Purchase receivables", "asset"),
    Account(RETAINED_EARNINGS, "Retained earnings", "equity"),
    Account(MARGIN_INCOME, "Margin income", "revenue"),
    Account(FEE_INCOME, "Fee income", "revenue"),
    Account(OTHER_REVENUE, "Other revenue", "revenue"),
    Account(CREDIT_LOSSES, "Credit losses", "expense"),
    Account(OPERATING_COSTS, "Operating costs", "expense"),
)
ACCOUNTS = {account.code: account for account in CHART}
RECEIVABLES = (LOANS, PURCHASES)
# Accounts lines post to (retained earnings is computed: income minus expenses to date).
POSTING_ACCOUNTS = tuple(a.code for a in CHART if a.code != RETAINED_EARNINGS)
OPERATING, INVESTING = "operating", "investing"
ZERO = Decimal(0)


def receivable_account(kind: str | None) -> str:
    return PURCHASES if kind == "purchase" else LOANS


@dataclass(frozen=True)
class Version:
    """One version of a source record, as its current item holds it (a stream image)."""

    table: str
    id: str
    version: int
    event_id: str
    valid_from: str
    system_from: str
    record: dict[str, Any]

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Version:
        return cls(item["table"], item["id"], int(item["version"]), item["event_id"], item["valid_from"],
                   item["system_from"], item["record"])

    @property
    def explicit_day(self) -> str | None:
        """The day of an explicit valid time (`effective_at`, or `change_date`), which wins over the
        record's own dates; None when the version is valid from its system time."""
        return None if self.valid_from == self.system_from else self.valid_from[:10]

    @property
    def change_day(self) -> str:
        """The change's valid day: explicit, else the day it was stored (ingest time)."""
        return self.explicit_day or self.system_from[:10]

    @property
    def deleted(self) -> bool:
        return bool(self.record.get("deleted"))

    def cause(self) -> dict[str, Any]:
        return {"table": self.table, "id": self.id, "version": self.version, "event_id": self.event_id}


@dataclass(frozen=True)
class Leg:
    account: str
    amount: Decimal  # signed: positive is a debit, negative a credit


@dataclass(frozen=True)
class Entry:
    """Legs summing to zero on one valid day; or, with no legs, a memo (a rebate granted)."""

    valid_date: str
    memo: str
    legs: tuple[Leg, ...] = ()
    memo_amount: Decimal = ZERO
    restates: bool = False  # the reversal of a corrected entry, on that entry's own day
    origin: bool = False  # a disbursement's origination (or its reversal when the date moves)

    def reversed(self, valid_date: str, memo: str, restates: bool = False) -> Entry:
        return Entry(valid_date, memo, tuple(Leg(leg.account, -leg.amount) for leg in self.legs), restates=restates)


def entry(valid_date: str, memo: str, *legs: tuple[str, Decimal], restates: bool = False,
          origin: bool = False) -> Entry | None:
    """An entry from (account, signed amount) pairs, zero legs left out; None when nothing is left."""
    kept = tuple(Leg(account, Decimal(amount)) for account, amount in legs if amount)
    if sum((leg.amount for leg in kept), ZERO) != 0:
        raise ValueError(f"unbalanced entry {memo!r}: {kept}")
    return Entry(valid_date, memo, kept, restates=restates, origin=origin) if kept else None


@dataclass(frozen=True)
class Line:
    line_id: str
    currency: str
    valid_date: str
    system_from: str
    account: str | None  # None on a memo line
    debit: Decimal
    credit: Decimal
    disbursement_id: str | None
    memo: str
    cause: dict[str, Any]
    entry: int  # lines of one entry share this number within their cause
    flows: dict[str, Decimal] = field(default_factory=dict)  # cash lines: {operating|investing}_{in|out}
    memo_amount: Decimal = ZERO
    own: bool = False  # posted by the disbursement's own versions (reversed when it is deleted)
    origin: bool = False  # its origination's (moved with the start date); known to the worker, not stored

    @property
    def net(self) -> Decimal:
        """Debit minus credit."""
        return self.debit - self.credit


@dataclass(frozen=True)
class Position:
    """What the journal holds for one disbursement, all valid dates, as currently known.

    `receivable`: the net of its receivable account (every line, payments included), which caps a
    write-off. `own`: net per account of the lines its own versions posted, which a delete reverses.
    """

    receivable: Decimal = ZERO
    own: dict[str, Decimal] = field(default_factory=dict)
    seq: int = 0  # bumped by every write that touches it: the optimistic lock of the rules that read it
    origin: dict[str, Decimal] = field(default_factory=dict)  # net per account of its origination lines
    origin_day: str | None = None  # the valid day its origination is posted on

    def plus(self, change: Position) -> Position:
        """This position with a change (`position_change`) added, as the store adds it."""
        def added(a: dict[str, Decimal], b: dict[str, Decimal]) -> dict[str, Decimal]:
            return {k: a.get(k, ZERO) + b.get(k, ZERO) for k in {*a, *b}}

        return Position(self.receivable + change.receivable, added(self.own, change.own), self.seq + 1,
                        added(self.origin, change.origin), change.origin_day or self.origin_day)


def post(old: Version | None, new: Version, position: Position | None = None, kind: str | None = None) -> list[Line]:
    """The lines one change posts. `position` is the disbursement's (needed for disbursement
    changes), `kind` the disbursement's kind (needed for payments: which receivable)."""
    if old is not None and old.deleted:
        return []  # nothing changes after a delete
    if new.table == "disbursements":
        entries = _disbursement_entries(old, new, position or Position())
        return _lines(new, entries, own=True)
    if new.table == "payments":
        receivable = receivable_account(kind)
        return _lines(new, _restated(old, new, lambda v: _payment_entries(v, receivable)))
    if new.table == "operations":
        return _lines(new, _restated(old, new, _operation_entries))
    return []


# disbursements ----------------------------------------------------------------------------


def _gross(record: dict[str, Any]) -> Decimal:
    gross = record.get("gross_value")
    if gross is None:
        return record["disbursement_amount"] + (record.get("upfront_fee") or ZERO)
    return gross


def _start(record: dict[str, Any]) -> str | None:
    """The business date a disbursement starts on: `disbursement_date` (loan), `operation_date` (purchase)."""
    start = record.get("disbursement_date") if record.get("kind") == "loan" else record.get("operation_date")
    return start[:10] if start else None


def _origination(day: str, receivable: str, cash: Decimal, fee: Decimal, memo: str = "",
                 restates: bool = False) -> list[Entry | None]:
    """Dr receivable / Cr cash for the amount disbursed, Dr receivable / Cr 4100 for the fee withheld."""
    return [
        entry(day, f"{memo}disbursed", (receivable, cash), (CASH, -cash), restates=restates, origin=True),
        entry(day, f"{memo}upfront fee", (receivable, fee), (FEE_INCOME, -fee), restates=restates, origin=True),
    ]


def _disbursement_entries(old: Version | None, new: Version, position: Position) -> list[Entry | None]:
    record = new.record
    receivable = receivable_account(record.get("kind"))
    if old is None:
        if new.deleted:
            return []
        day = new.explicit_day or (_start(record) or new.system_from)[:10]
        amount, gross = record["disbursement_amount"], _gross(record)
        return _origination(day, receivable, amount, gross - amount)
    if new.deleted:
        day, own = new.change_day, position.own
        return [  # reverse origination, increases and write-offs; payment lines stand
            entry(day, "disbursement canceled: cash", (CASH, -own.get(CASH, ZERO)), (receivable, own.get(CASH, ZERO))),
            entry(day, "disbursement canceled: fee", (FEE_INCOME, -own.get(FEE_INCOME, ZERO)),
                  (receivable, own.get(FEE_INCOME, ZERO))),
            entry(day, "disbursement canceled: write-off", (CREDIT_LOSSES, -own.get(CREDIT_LOSSES, ZERO)),
                  (receivable, own.get(CREDIT_LOSSES, ZERO))),
        ]
    before = old.record
    entries: list[Entry | None] = []
    moved_to = _start(record)
    if moved_to and moved_to != _start(before) and position.origin_day and position.origin_day != moved_to:
        # the start date corrected: the origination leaves its old day (a reversal restating it
        # there) and is posted again on the new one, with the amounts it was posted with
        cash, fee = -position.origin.get(CASH, ZERO), -position.origin.get(FEE_INCOME, ZERO)
        entries += _origination(position.origin_day, receivable, -cash, -fee, "start date moved: ", restates=True)
        entries += _origination(moved_to, receivable, cash, fee)
    amount_change = record["disbursement_amount"] - before["disbursement_amount"]
    if amount_change < 0:
        open_receivable = max(position.receivable, ZERO)
        lowered = open_receivable if record["disbursement_amount"] == 0 else min(-amount_change, open_receivable)
        entries.append(entry(new.change_day, "write-off", (CREDIT_LOSSES, lowered), (receivable, -lowered)))
    elif amount_change > 0:
        entries.append(entry(new.change_day, "disbursement increased", (receivable, amount_change),
                             (CASH, -amount_change)))
    gross_change = _gross(record) - _gross(before)
    if gross_change and gross_change != amount_change:  # a gross value that follows the amount posts nothing
        other = gross_change - amount_change
        entries.append(entry(new.change_day, "gross value changed", (receivable, other), (FEE_INCOME, -other)))
    margin_before, margin_after = before.get("total_expected_margin"), record.get("total_expected_margin")
    if margin_before is not None and margin_after is not None and margin_after < margin_before:
        entries.append(Entry(new.change_day, f"memo: rebate granted (margin {margin_before} -> {margin_after})",
                             memo_amount=margin_before - margin_after))
    return entries


# payments and operations: standing lines, restated on change ------------------------------


def _payment_entries(version: Version, receivable: str) -> list[Entry]:
    """The lines a payment stands for in this version: nothing unless it is paid."""
    record = version.record
    if version.deleted or record.get("status") != "paid":
        return []
    amount = record["amount"]
    # Allocated in order, each part capped at what is left, so the entry always balances
    # (ingest refuses parts above the amount; older records may still hold them).
    interest = min(record.get("interest_amount") or ZERO, amount)
    fee = min(record.get("payment_fee") or ZERO, amount - interest)
    rest = amount - interest - fee
    principal = rest if record.get("principal_amount") is None else min(record["principal_amount"], rest)
    margin = interest + rest - principal
    day = version.explicit_day or (record.get("payment_date") or record["due_date"])[:10]
    made = entry(day, f"payment {version.id} received", (CASH, amount), (MARGIN_INCOME, -margin),
                 (FEE_INCOME, -fee), (receivable, -principal))
    return [made] if made else []


def _operation_entries(version: Version) -> list[Entry]:
    record = version.record
    if version.deleted:
        return []
    day = version.explicit_day or record["operation_date"][:10]
    amount = record["amount"]
    if record.get("operation_type") == "cost":
        made = entry(day, f"cost {version.id}", (OPERATING_COSTS, amount), (CASH, -amount))
    else:
        made = entry(day, f"revenue {version.id}", (CASH, amount), (OTHER_REVENUE, -amount))
    return [made] if made else []


def _restated(old: Version | None, new: Version, standing: Any) -> list[Entry]:
    """Reverse what the old version stood for and post what the new one stands for, when they differ.

    A correction (the record still stands for lines) restates: the reversal is valid on the
    day of the lines it reverses, so history as known from now on reads corrected. A cancel or
    a delete (it stands for nothing any more) reverses on the change's own valid day.
    """
    before = standing(old) if old is not None else []
    after = standing(new)
    if before == after:
        return []
    if after:
        reversal = [e.reversed(e.valid_date, f"correction of {e.memo}", restates=True) for e in before]
    else:
        reversal = [e.reversed(new.change_day, f"reversal of {e.memo}") for e in before]
    return reversal + after


# lines --------------------------------------------------------------------------------------


def _flows(made: Entry) -> dict[str, Decimal]:
    """The cash of an entry split by activity, as inflows and outflows (`investing_in`: 800, ...).

    The reversal of a corrected entry takes back the flow it reverses (a negative inflow, on the
    same day), so a restated receipt counts once; any other reversal (a cancel, a delete) is cash
    moving the other way on its own day.
    """
    investing = -sum((leg.amount for leg in made.legs if leg.account in RECEIVABLES), ZERO)
    operating = -sum((leg.amount for leg in made.legs if leg.account not in RECEIVABLES and leg.account != CASH),
                     ZERO)
    flows = {}
    for activity, signed in ((INVESTING, investing), (OPERATING, operating)):
        if not signed:
            continue
        if made.restates:
            flows[f"{activity}_{'out' if signed > 0 else 'in'}"] = -abs(signed)
        else:
            flows[f"{activity}_{'in' if signed > 0 else 'out'}"] = abs(signed)
    return flows


def _lines(version: Version, entries: list[Entry | None], own: bool = False) -> list[Line]:
    record = version.record
    currency = record["currency"]
    disbursement_id = record.get("disbursement_id")
    cause = version.cause()
    prefix = f"{version.table}~{version.id}~v{version.version}"
    lines: list[Line] = []
    for number, made in enumerate(e for e in entries if e is not None):
        common = {"currency": currency, "valid_date": made.valid_date, "system_from": version.system_from,
                  "disbursement_id": disbursement_id, "memo": made.memo, "cause": cause, "entry": number,
                  "own": own, "origin": made.origin}
        if not made.legs:
            lines.append(Line(f"{prefix}~{len(lines):02d}", account=None, debit=ZERO, credit=ZERO,
                              memo_amount=made.memo_amount, **common))
            continue
        has_cash = any(leg.account == CASH for leg in made.legs)
        for leg in made.legs:
            flows = _flows(made) if leg.account == CASH and has_cash else {}
            lines.append(Line(f"{prefix}~{len(lines):02d}", account=leg.account,
                              debit=max(leg.amount, ZERO), credit=max(-leg.amount, ZERO), flows=flows, **common))
    return lines


def position_change(lines: list[Line], receivable: str) -> Position:
    """How these lines move a disbursement's position (to add to the stored one)."""
    own: dict[str, Decimal] = {}
    origin: dict[str, Decimal] = {}
    origin_day = None
    for line in lines:
        if line.own and line.account is not None:
            own[line.account] = own.get(line.account, ZERO) + line.net
        if line.origin and line.account is not None:
            origin[line.account] = origin.get(line.account, ZERO) + line.net
            origin_day = line.valid_date  # the origination comes last, after the reversal of a moved one
    moved = sum((line.net for line in lines if line.account == receivable), ZERO)
    return Position(receivable=moved, own=own, origin=origin, origin_day=origin_day)
