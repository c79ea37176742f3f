"""Properties of the journal and the reports over any sequence of valid events (hypothesis).

An in-memory book applies random changes of loans, purchases, payments and operations through
the posting rules, each stored one microsecond after the previous, and the reports are computed
the way the routes compute them: from sums of lines, minus those stored after `known_at`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerline.domain.journal import (
    CASH,
    RECEIVABLES,
    RETAINED_EARNINGS,
    Line,
    Position,
    Version,
    position_change,
    post,
    receivable_account,
)
from ledgerline.domain.reports import Movement, balance_sheet, cash_flow, income_statement

START = date(2024, 1, 1)
DAYS = 60
KINDS = ("loan", "purchase", "pay", "correct", "cancel", "write_off", "raise", "delete", "operation", "fix_operation",
         "move_start")


def day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


class Book:
    def __init__(self) -> None:
        self.current: dict[tuple[str, str], Version] = {}
        self.positions: dict[str, Position] = {}
        self.lines: list[Line] = []
        self.clock = 0

    def stored_at(self) -> str:
        return f"2026-01-01T00:00:00.{self.clock:06d}Z"

    def change(self, table: str, record_id: str, record: dict[str, Any], valid: str | None = None) -> None:
        self.clock += 1
        system = self.stored_at()
        old = self.current.get((table, record_id))
        new = Version(table, record_id, old.version + 1 if old else 1, f"ev{self.clock}", valid or system, system,
                      record)
        disbursement_id = record.get("disbursement_id")
        parent = record if table == "disbursements" else self.current.get(("disbursements", disbursement_id))
        kind = parent["kind"] if table == "disbursements" else (parent.record["kind"] if parent else None)
        position = self.positions.get(disbursement_id, Position()) if disbursement_id else None
        lines = post(old, new, position, kind)
        if disbursement_id:
            self.positions[disbursement_id] = position.plus(position_change(lines, receivable_account(kind)))
        self.current[(table, record_id)] = new
        self.lines += lines

    def live(self, table: str, index: int, test=lambda r: True) -> tuple[str, dict[str, Any]] | None:
        found = sorted((key[1], v.record) for key, v in self.current.items()
                       if key[0] == table and not v.record.get("deleted") and test(v.record))
        return found[index % len(found)] if found else None

    def apply(self, kind: str, pick: int, amount: int, offset: int, flag: bool) -> None:
        money = D(amount) / 4  # quarters: exact decimals
        if kind in ("loan", "purchase"):
            record_id = f"D{self.clock}"
            fee = money / 10 if flag else D(0)
            record = {"disbursement_id": record_id, "kind": kind, "currency": "EUR", "disbursement_amount": money,
                      "upfront_fee": fee, "gross_value": money + fee + (D(3) if pick % 2 else D(0)),
                      "total_expected_margin": money / 5, "deleted": False,
                      ("disbursement_date" if kind == "loan" else "operation_date"): day(offset)}
            self.change("disbursements", record_id, record)
            return
        if kind == "pay" and (found := self.live("disbursements", pick)):
            interest = money / 8 if flag else D(0)
            record = {"payment_id": f"P{self.clock}", "disbursement_id": found[0], "status": "paid",
                      "amount": money, "currency": "EUR", "due_date": day(offset), "interest_amount": interest,
                      "payment_fee": money / 16, "payment_date": day(min(offset + pick % 5, DAYS))}
            self.change("payments", record["payment_id"], record)
        elif kind == "correct" and (found := self.live("payments", pick, lambda r: r["status"] == "paid")):
            record = {**found[1], "amount": money, "interest_amount": D(0), "payment_fee": D(0)}
            if flag:
                record["payment_date"] = day(offset)
            self.change("payments", found[0], record)
        elif kind == "cancel" and (found := self.live("payments", pick, lambda r: r["status"] == "paid")):
            self.change("payments", found[0], {**found[1], "status": "canceled"}, valid=day(offset) if flag else None)
        elif kind == "write_off" and (found := self.live("disbursements", pick)):
            lowered = D(0) if flag else min(found[1]["disbursement_amount"], money)
            record = {**found[1], "disbursement_amount": lowered,
                      "gross_value": found[1]["gross_value"] - (found[1]["disbursement_amount"] - lowered)}
            self.change("disbursements", found[0], record, valid=day(offset))
        elif kind == "raise" and (found := self.live("disbursements", pick)):
            record = {**found[1], "disbursement_amount": found[1]["disbursement_amount"] + money,
                      "gross_value": found[1]["gross_value"] + (money if flag else money * 2)}
            self.change("disbursements", found[0], record, valid=day(offset))
        elif kind == "move_start" and (found := self.live("disbursements", pick)):
            start = "disbursement_date" if found[1]["kind"] == "loan" else "operation_date"
            self.change("disbursements", found[0], {**found[1], start: day(offset)}, valid=day(offset) if flag else None)
        elif kind == "delete" and (found := self.live("disbursements", pick)):
            self.change("disbursements", found[0], {**found[1], "deleted": True}, valid=day(offset))
        elif kind == "operation":
            record = {"operation_id": f"O{self.clock}", "operation_type": "cost" if flag else "revenue",
                      "amount": money, "currency": "EUR", "operation_date": day(offset), "deleted": False}
            self.change("operations", record["operation_id"], record)
        elif kind == "fix_operation" and (found := self.live("operations", pick)):
            record = {**found[1], "amount": money, "operation_date": day(offset)}
            self.change("operations", found[0], {**record, "deleted": flag and pick % 3 == 0})


events = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 7), st.integers(1, 400_000),
                            st.integers(0, DAYS), st.booleans()), max_size=30)


def through(lines: list[Line], last: str, known_at: str | None = None) -> Movement:
    return Movement.of_lines(line for line in lines if line.valid_date <= last
                             and (known_at is None or line.system_from <= known_at))


def within(lines: list[Line], first: str, last: str) -> Movement:
    return Movement.of_lines(line for line in lines if first <= line.valid_date <= last)


def build(steps: list[tuple[Any, ...]]) -> Book:
    book = Book()
    for step in steps:
        book.apply(*step)
    return book


@settings(max_examples=150, deadline=None)
@given(events)
def test_every_entry_balances_and_the_balance_sheet_balances_on_every_date(steps):
    book = build(steps)
    for offset in range(-1, DAYS + 2, 3):
        sheet = balance_sheet(through(book.lines, day(offset)))
        assert sheet["balance_check"]["balanced"] is True
        assert sheet["balance_check"]["assets_total"] == sheet["balance_check"]["liabilities_and_equity_total"]
    assert sum(line.debit for line in book.lines) == sum(line.credit for line in book.lines)
    assert all(line.debit >= 0 and line.credit >= 0 for line in book.lines)


@settings(max_examples=150, deadline=None)
@given(events, st.integers(0, DAYS), st.integers(0, DAYS))
def test_cash_flow_ends_at_balance_sheet_cash_and_net_income_is_retained_earnings(steps, a, b):
    book = build(steps)
    first, last = day(min(a, b)), day(max(a, b))
    flow = cash_flow(through(book.lines, day(min(a, b) - 1)), within(book.lines, first, last))
    sheet = balance_sheet(through(book.lines, last))
    cash = next(x["balance"] for x in sheet["assets"]["accounts"] if x["code"] == CASH)
    assert flow["ending_balance"] == cash
    for section in ("operating", "investing"):
        assert flow[section]["inflows"] >= 0 and flow[section]["outflows"] >= 0

    since_inception = income_statement(within(book.lines, "0000-01-01", last))
    retained = next(x["balance"] for x in sheet["equity"]["accounts"] if x["code"] == RETAINED_EARNINGS)
    assert since_inception["net_income"] == retained


@settings(max_examples=150, deadline=None)
@given(events, events, st.integers(0, DAYS))
def test_a_report_known_at_k_is_unchanged_by_anything_stored_after_k(before, after, offset):
    book = build(before)
    known_at = book.stored_at()
    as_of = day(offset)
    answered_then = (balance_sheet(through(book.lines, as_of)), income_statement(within(book.lines, day(0), as_of)),
                     cash_flow(through(book.lines, day(-1)), within(book.lines, day(0), as_of)))
    for step in after:
        book.apply(*step)
    # what the report routes compute: totals of every line now, minus the lines stored after K
    later = [line for line in book.lines if line.system_from > known_at]
    balances = through(book.lines, as_of).add(through(later, as_of), -1)
    activity = within(book.lines, day(0), as_of).add(within(later, day(0), as_of), -1)
    opening = through(book.lines, day(-1)).add(through(later, day(-1)), -1)
    assert (balance_sheet(balances), income_statement(activity), cash_flow(opening, activity)) == answered_then


@settings(max_examples=100, deadline=None)
@given(events)
def test_a_write_off_never_takes_a_receivable_below_zero(steps):
    book = Book()
    for step in steps:
        before = {d: p.receivable for d, p in book.positions.items()}
        count = len(book.lines)
        book.apply(*step)
        for line in book.lines[count:]:
            if line.memo == "write-off" and line.account in RECEIVABLES:
                assert line.credit <= max(before.get(line.disbursement_id, D(0)), D(0))
