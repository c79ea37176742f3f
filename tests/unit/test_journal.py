"""Posting rules, one by one: what each accepted change writes to the journal (docs/reports.md)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from ledgerline.domain.journal import (
    CASH,
    CREDIT_LOSSES,
    FEE_INCOME,
    LOANS,
    MARGIN_INCOME,
    OPERATING_COSTS,
    OTHER_REVENUE,
    PURCHASES,
    Line,
    Position,
    Version,
    position_change,
    post,
)

STORED = "2026-03-01T10:00:00.000000Z"


def version(table: str, record_id: str, number: int, record: dict[str, Any], *, valid: str | None = None,
            system: str = STORED) -> Version:
    return Version(table, record_id, number, f"ev_{record_id}_{number}", valid or system, system, record)


def loan_record(**fields: Any) -> dict[str, Any]:
    record = {"disbursement_id": "D1", "kind": "loan", "currency": "EUR", "disbursement_amount": D("10000"),
              "upfront_fee": D("100"), "gross_value": D("10100"), "total_expected_margin": D("1200"),
              "disbursement_date": "2024-01-10", "maturity_date": "2025-01-10", "deleted": False}
    return record | fields


def paid(**fields: Any) -> dict[str, Any]:
    record = {"payment_id": "P1", "disbursement_id": "D1", "status": "paid", "amount": D("1000"), "currency": "EUR",
              "due_date": "2024-02-10", "payment_date": "2024-02-12", "deleted": False}
    return record | fields


def summary(lines: list[Line]) -> list[tuple[str, str | None, D, D]]:
    """(valid date, account, debit, credit) of every line."""
    return [(line.valid_date, line.account, line.debit, line.credit) for line in lines]


def assert_balanced(lines: list[Line]) -> None:
    assert sum(line.debit for line in lines) == sum(line.credit for line in lines)


def test_a_loan_with_an_upfront_fee_posts_the_disbursed_cash_and_the_fee():
    lines = post(None, version("disbursements", "D1", 1, loan_record()))

    assert summary(lines) == [
        ("2024-01-10", LOANS, D("10000"), 0), ("2024-01-10", CASH, 0, D("10000")),
        ("2024-01-10", LOANS, D("100"), 0), ("2024-01-10", FEE_INCOME, 0, D("100")),
    ]
    cash = next(line for line in lines if line.account == CASH)
    assert cash.flows == {"investing_out": D("10000")}  # the withheld fee moves no cash
    assert [line.line_id for line in lines] == [f"disbursements~D1~v1~{n:02d}" for n in range(4)]
    assert lines[0].cause == {"table": "disbursements", "id": "D1", "version": 1, "event_id": "ev_D1_1"}
    assert all(line.system_from == STORED and line.own for line in lines)


def test_an_explicit_gross_value_posts_the_difference_to_fee_income():
    lines = post(None, version("disbursements", "D1", 1, loan_record(gross_value=D("10350.5"))))
    assert summary(lines)[2:] == [("2024-01-10", LOANS, D("350.5"), 0), ("2024-01-10", FEE_INCOME, 0, D("350.5"))]

    below = post(None, version("disbursements", "D1", 1, loan_record(gross_value=D("9900"))))
    assert summary(below)[2:] == [("2024-01-10", LOANS, 0, D("100")), ("2024-01-10", FEE_INCOME, D("100"), 0)]


def test_a_purchase_posts_to_purchase_receivables_on_its_operation_date():
    record = {"disbursement_id": "P1", "kind": "purchase", "currency": "EUR", "disbursement_amount": D("5000"),
              "gross_value": D("5000"), "operation_date": "2024-03-05", "deleted": False}
    lines = post(None, version("disbursements", "P1", 1, record))
    assert summary(lines) == [("2024-03-05", PURCHASES, D("5000"), 0), ("2024-03-05", CASH, 0, D("5000"))]


def test_an_explicit_effective_at_wins_over_the_record_dates():
    lines = post(None, version("disbursements", "D1", 1, loan_record(), valid="2024-01-15T09:00:00Z"))
    assert {line.valid_date for line in lines} == {"2024-01-15"}


def test_a_write_off_is_capped_at_the_receivable_balance():
    old = version("disbursements", "D1", 1, loan_record())
    new = version("disbursements", "D1", 2, loan_record(disbursement_amount=D("2000"), gross_value=D("2100")),
                  valid="2024-06-30")
    lines = post(old, new, Position(receivable=D("3000"), seq=3))
    # lowered by 8,000 but only 3,000 is still receivable; the gross value followed: nothing more
    assert summary(lines) == [("2024-06-30", CREDIT_LOSSES, D("3000"), 0), ("2024-06-30", LOANS, 0, D("3000"))]
    assert lines[0].flows == {} and lines[1].flows == {}


def test_a_full_write_off_after_partial_repayment_writes_off_what_remains():
    old = version("disbursements", "D1", 2, loan_record())
    new = version("disbursements", "D1", 3, loan_record(disbursement_amount=D("0"), gross_value=D("100")),
                  valid="2024-09-30")
    lines = post(old, new, Position(receivable=D("6100"), seq=5))
    assert summary(lines) == [("2024-09-30", CREDIT_LOSSES, D("6100"), 0), ("2024-09-30", LOANS, 0, D("6100"))]

    nothing_left = post(old, new, Position(receivable=D("-50"), seq=6))
    assert nothing_left == []  # a receivable never goes below zero through a write-off


def test_a_raised_amount_posts_more_cash_out_on_the_ingest_day_and_the_following_gross_posts_nothing():
    old = version("disbursements", "D1", 1, loan_record())
    new = version("disbursements", "D1", 2, loan_record(disbursement_amount=D("12000"), gross_value=D("12100")))
    assert summary(post(old, new, Position())) == [("2026-03-01", LOANS, D("2000"), 0),
                                                   ("2026-03-01", CASH, 0, D("2000"))]


def test_a_gross_value_changed_otherwise_posts_against_fee_income():
    old = version("disbursements", "D1", 1, loan_record())
    new = version("disbursements", "D1", 2, loan_record(gross_value=D("10000")), valid="2024-02-01T00:00:00Z")
    assert summary(post(old, new, Position())) == [("2024-02-01", LOANS, 0, D("100")),
                                                   ("2024-02-01", FEE_INCOME, D("100"), 0)]


def test_a_rebate_is_a_memo_line_and_an_extension_posts_nothing():
    old = version("disbursements", "D1", 1, loan_record())
    rebate = version("disbursements", "D1", 2, loan_record(total_expected_margin=D("1000")), valid="2024-05-01")
    (memo,) = post(old, rebate, Position())
    assert (memo.account, memo.debit, memo.credit, memo.memo_amount) == (None, 0, 0, D("200"))
    extension = version("disbursements", "D1", 2, loan_record(maturity_date="2025-06-10"), valid="2024-05-01")
    assert post(old, extension, Position()) == []


def test_a_payment_received_posts_cash_against_margin_fee_and_principal():
    lines = post(None, version("payments", "P1", 1, paid(interest_amount=D("150"), payment_fee=D("10"),
                                                           principal_amount=D("800"))), kind="loan")
    assert summary(lines) == [
        ("2024-02-12", CASH, D("1000"), 0), ("2024-02-12", MARGIN_INCOME, 0, D("190")),
        ("2024-02-12", FEE_INCOME, 0, D("10")), ("2024-02-12", LOANS, 0, D("800")),
    ]  # the 40 not allocated goes to margin income
    cash = lines[0]
    assert cash.flows == {"investing_in": D("800"), "operating_in": D("200")}
    assert not any(line.own for line in lines)


def test_a_payment_without_parts_is_all_principal_and_dated_by_due_date_without_payment_date():
    lines = post(None, version("payments", "P1", 1, paid(payment_date=None)), kind="purchase")
    assert summary(lines) == [("2024-02-10", CASH, D("1000"), 0), ("2024-02-10", PURCHASES, 0, D("1000"))]


def test_an_expected_payment_posts_nothing_until_paid():
    expected = version("payments", "P1", 1, paid(status="expected", payment_date=None))
    assert post(None, expected, kind="loan") == []
    receipt = version("payments", "P1", 2, paid())
    assert summary(post(expected, receipt, kind="loan")) == [("2024-02-12", CASH, D("1000"), 0),
                                                             ("2024-02-12", LOANS, 0, D("1000"))]


def test_a_paid_payment_corrected_then_canceled():
    first = version("payments", "P1", 1, paid())
    corrected = version("payments", "P1", 2, paid(amount=D("900")), system="2026-03-05T10:00:00.000000Z")
    correction = post(first, corrected, kind="loan")
    # restated on the payment's own date: the reversal of the old lines, then the new ones
    assert summary(correction) == [
        ("2024-02-12", CASH, 0, D("1000")), ("2024-02-12", LOANS, D("1000"), 0),
        ("2024-02-12", CASH, D("900"), 0), ("2024-02-12", LOANS, 0, D("900")),
    ]
    assert correction[0].flows == {"investing_in": D("-1000")}
    assert {line.system_from for line in correction} == {"2026-03-05T10:00:00.000000Z"}

    canceled = version("payments", "P1", 3, paid(amount=D("900"), status="canceled"),
                       system="2026-04-01T08:00:00.000000Z")
    reversal = post(corrected, canceled, kind="loan")
    # reversed on the cancel's own valid day (here its ingest day: no effective_at)
    assert summary(reversal) == [("2026-04-01", CASH, 0, D("900")), ("2026-04-01", LOANS, D("900"), 0)]
    assert reversal[0].flows == {"investing_out": D("900")}  # cash going back out, on its own day
    assert post(canceled, version("payments", "P1", 4, {**paid(status="canceled"), "deleted": True}),
                kind="loan") == []


def test_a_change_that_moves_no_money_posts_nothing():
    first = version("payments", "P1", 1, paid())
    assert post(first, version("payments", "P1", 2, paid(info={"note": "x"})), kind="loan") == []


def test_a_disbursement_deleted_after_payments_reverses_only_its_own_lines():
    created = post(None, version("disbursements", "D1", 1, loan_record()))
    receipt = post(None, version("payments", "P1", 1, paid()), kind="loan")
    write_off = post(version("disbursements", "D1", 1, loan_record()),
                     version("disbursements", "D1", 2, loan_record(disbursement_amount=D("5000"),
                                                                   gross_value=D("5100")), valid="2024-06-01"),
                     Position(receivable=D("9100")))
    position = Position()
    for lines in (created, receipt, write_off):
        change = position_change(lines, LOANS)
        position = Position(position.receivable + change.receivable,
                            {a: position.own.get(a, 0) + change.own.get(a, 0) for a in {*position.own, *change.own}})
    assert position.receivable == D("10100") - D("1000") - D("5000")

    deleted = version("disbursements", "D1", 3, loan_record(disbursement_amount=D("5000"), deleted=True),
                      valid="2024-07-01T00:00:00Z")
    reversal = post(version("disbursements", "D1", 2, loan_record(disbursement_amount=D("5000"))), deleted, position)
    assert summary(reversal) == [
        ("2024-07-01", CASH, D("10000"), 0), ("2024-07-01", LOANS, 0, D("10000")),
        ("2024-07-01", FEE_INCOME, D("100"), 0), ("2024-07-01", LOANS, 0, D("100")),
        ("2024-07-01", CREDIT_LOSSES, 0, D("5000")), ("2024-07-01", LOANS, D("5000"), 0),
    ]
    assert reversal[0].flows == {"investing_in": D("10000")}
    after = position.receivable + position_change(reversal, LOANS).receivable
    assert after == D("-1000")  # the collection stands: a credit balance the portfolio shows


@pytest.mark.parametrize(("kind", "debit", "credit", "flow"), [
    ("revenue", CASH, OTHER_REVENUE, {"operating_in": D("12.5")}),
    ("cost", OPERATING_COSTS, CASH, {"operating_out": D("12.5")}),
])
def test_operations_post_revenue_and_cost(kind, debit, credit, flow):
    record = {"operation_id": "O1", "operation_type": kind, "amount": D("12.5"), "currency": "EUR",
              "operation_date": "2024-03-01", "deleted": False}
    lines = post(None, version("operations", "O1", 1, record))
    assert summary(lines) == [("2024-03-01", debit, D("12.5"), 0), ("2024-03-01", credit, 0, D("12.5"))]
    assert next(line for line in lines if line.account == CASH).flows == flow

    moved = version("operations", "O1", 2, {**record, "operation_date": "2024-03-04", "amount": D("20")})
    correction = post(version("operations", "O1", 1, record), moved)
    assert [line.valid_date for line in correction] == ["2024-03-01"] * 2 + ["2024-03-04"] * 2
    assert_balanced(correction)


def test_redelivery_posts_the_same_lines_with_the_same_ids():
    old = version("payments", "P1", 1, paid())
    new = version("payments", "P1", 2, paid(amount=D("900")))
    assert post(old, new, kind="loan") == post(old, new, kind="loan")


def test_a_corrected_start_date_moves_the_origination_to_the_new_date():
    first = version("disbursements", "D1", 1, loan_record())
    raised_record = loan_record(disbursement_amount=D("12000"), gross_value=D("12100"))
    raised = version("disbursements", "D1", 2, raised_record, valid="2024-03-01T00:00:00Z")
    position = Position()
    for old, new in ((None, first), (first, raised)):
        position = position.plus(position_change(post(old, new, position), LOANS))
    assert position.origin_day == "2024-01-10"

    moved = version("disbursements", "D1", 3, raised_record | {"disbursement_date": "2024-01-20"})
    lines = post(raised, moved, position)

    # reversed on the day it stood on, posted again on the new one, with the amounts first
    # disbursed (the later increase stays on its own day)
    assert summary(lines) == [
        ("2024-01-10", LOANS, 0, D("10000")), ("2024-01-10", CASH, D("10000"), 0),
        ("2024-01-10", LOANS, 0, D("100")), ("2024-01-10", FEE_INCOME, D("100"), 0),
        ("2024-01-20", LOANS, D("10000"), 0), ("2024-01-20", CASH, 0, D("10000")),
        ("2024-01-20", LOANS, D("100"), 0), ("2024-01-20", FEE_INCOME, 0, D("100")),
    ]
    assert_balanced(lines)
    # the cash flow of 2024-01-10 takes the outflow back; 2024-01-20 has it
    assert [line.flows for line in lines if line.account == CASH] == [{"investing_out": D("-10000")},
                                                                        {"investing_out": D("10000")}]
    position = position.plus(position_change(lines, LOANS))
    assert (position.origin_day, position.origin) == ("2024-01-20", {LOANS: D("10100"), CASH: D("-10000"),
                                                                     FEE_INCOME: D("-100")})

    # moved again, the origination leaves 2024-01-20; a version that keeps the date moves nothing
    again = version("disbursements", "D1", 4, raised_record | {"disbursement_date": "2024-02-01"})
    assert {line.valid_date for line in post(moved, again, position)} == {"2024-01-20", "2024-02-01"}
    noted = version("disbursements", "D1", 4, raised_record | {"disbursement_date": "2024-01-20", "note": "x"})
    assert post(moved, noted, position) == []
