"""Balance statements: cycles, weekend due dates, chained balances, collection status."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerline.domain.derive.statements import (
    build_statement,
    cycles,
    previous_status,
    real_due_date,
    same_content,
    sweep_day,
)


def pay(payment_id, status="expected", due="2025-01-12", amount="100", **fields):
    return {"payment_id": payment_id, "disbursement_id": "D1", "status": status, "due_date": due,
            "amount": Decimal(amount), "deleted": False} | fields


LOAN = {"disbursement_id": "D1", "currency": "EUR", "disbursement_amount": Decimal("1000")}


@pytest.mark.parametrize(("due", "real"), [
    ("2025-01-12", "2025-01-13"),  # Sunday -> Monday
    ("2025-01-11", "2025-01-13"),  # Saturday -> Monday
    ("2025-01-10", "2025-01-10"),  # Friday stays
    ("2025-01-13", "2025-01-13"),  # Monday stays
    ("2024-12-29", "2024-12-30"),  # Sunday across a month end
    ("2023-12-31", "2024-01-01"),  # Sunday across a year end
])
def test_real_due_date_moves_weekends_to_monday(due, real):
    assert real_due_date(date.fromisoformat(due)) == date.fromisoformat(real)


def test_cycles_are_ordered_by_due_date_and_chain_their_balances():
    payments = [
        pay("PM3", due="2025-03-12", amount="300.0001", installment_number=3),
        pay("PM1", "paid", due="2025-01-12", amount="100.25", installment_number=1),
        pay("PM2", due="2025-02-12", amount="200", installment_number=2),
    ]

    chain = cycles("D1", payments)

    assert [c["cycle"] for c in chain] == [1, 2, 3]
    assert [c["due_date"] for c in chain] == ["2025-01-12", "2025-02-12", "2025-03-12"]
    assert chain[0] == {
        "statement_id": "D1~2025-01-12", "cycle": 1, "due_date": "2025-01-12", "real_due_date": "2025-01-13",
        "previous_balance": Decimal("0"), "debits": Decimal("100.25"), "credits": Decimal("100.25"),
        "current_balance": Decimal("0"), "payment_ids": ["PM1"],
    }
    assert chain[1]["previous_balance"] == Decimal("0") and chain[1]["current_balance"] == Decimal("200")
    assert chain[2]["previous_balance"] == Decimal("200") and chain[2]["current_balance"] == Decimal("500.0001")
    assert all(isinstance(c[k], Decimal) for c in chain for k in ("previous_balance", "debits", "credits", "current_balance"))


def test_canceled_and_deleted_payments_are_left_out():
    payments = [pay("PM1", "canceled", due="2025-01-12"), pay("PM2", due="2025-02-12", deleted=True),
                pay("PM3", due="2025-03-12")]

    chain = cycles("D1", payments)

    assert [c["payment_ids"] for c in chain] == [["PM3"]]
    assert chain[0]["cycle"] == 1


def test_payments_due_the_same_day_form_one_cycle():
    payments = [pay("PM2", due="2025-01-12T15:00:00Z", amount="50", installment_number=2),
                pay("PM1", "paid", due="2025-01-12", amount="100", installment_number=1)]

    [cycle] = cycles("D1", payments)

    assert cycle["payment_ids"] == ["PM1", "PM2"]
    assert (cycle["debits"], cycle["credits"], cycle["current_balance"]) == (Decimal("150"), Decimal("100"), Decimal("50"))


def test_current_cycle_is_the_first_not_fully_paid():
    payments = [pay("PM1", "paid", due="2025-01-12"), pay("PM2", due="2025-02-12"), pay("PM3", due="2025-03-12")]

    statement = build_statement(LOAN, payments, "ongoing")

    assert (statement["current_cycle"], statement["open_due_date"]) == (2, "2025-02-12")


def test_everything_paid_leaves_no_current_cycle():
    statement = build_statement(LOAN, [pay("PM1", "paid")], "settled")

    assert (statement["current_cycle"], statement["open_due_date"]) == (None, None)
    assert statement["collection_status"] == "SETTLED"


def test_a_disbursement_without_payments_has_an_empty_statement():
    assert build_statement(LOAN, [], "ongoing") == {
        "disbursement_id": "D1", "currency": "EUR", "collection_status": "NORMAL", "current_cycle": None,
        "open_due_date": None, "statements": [], "deleted": False,
    }


@pytest.mark.parametrize(("status", "collection"), [
    ("ongoing", "NORMAL"), ("overdue", "DELINQUENT"), ("settled", "SETTLED"),
    ("written_off", "WRITTEN_OFF"), ("canceled", "CANCELED"),
])
def test_collection_status_follows_the_status_both_ways(status, collection):
    statement = build_statement(LOAN, [], status)

    assert statement["collection_status"] == collection
    assert previous_status(statement) == status


def test_same_content_ignores_bookkeeping_and_cause():
    built = build_statement(LOAN, [pay("PM1")], "ongoing")
    stored = {**built, "version": 3, "created_at": "x", "updated_at": "y", "as_of": "z",
              "cause": {"table": "payments", "id": "PM1", "version": 1, "event_id": "e"}}

    assert same_content(stored, built)
    assert not same_content({**stored, "collection_status": "DELINQUENT"}, built)
    assert not same_content(None, built)


def test_the_sweep_watches_only_disbursements_in_good_standing():
    normal = build_statement(LOAN, [pay("PM1", due="2025-02-12"), pay("PM2", due="2025-03-12")], "ongoing")

    assert sweep_day(normal) == date(2025, 2, 12)
    assert sweep_day(build_statement(LOAN, [pay("PM1", due="2025-02-12")], "overdue")) is None
    assert sweep_day(build_statement(LOAN, [pay("PM1", "paid")], "settled")) is None
    assert sweep_day(build_statement(LOAN, [], "ongoing")) is None
    assert sweep_day(None) is None


# -- properties of the chain --------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000000000"), places=4, allow_nan=False,
                      allow_infinity=False)
payment_lists = st.lists(
    st.tuples(amounts, st.integers(min_value=0, max_value=3650), st.sampled_from(["expected", "paid", "canceled"]),
              st.booleans()),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(payment_lists)
def test_statement_chain_properties(spec):
    start = date(2024, 1, 1)
    payments = [pay(f"PM{i}", status, due=(start + timedelta(days=offset)).isoformat(), amount=str(amount),
                    deleted=deleted)
                for i, (amount, offset, status, deleted) in enumerate(spec)]
    counted = [p for p in payments if p["status"] != "canceled" and not p["deleted"]]

    chain = cycles("D1", payments)

    # cycles ordered by due date, numbered 1..n, one per due day
    assert [c["cycle"] for c in chain] == list(range(1, len(chain) + 1))
    assert [c["due_date"] for c in chain] == sorted({p["due_date"] for p in counted})
    # canceled and deleted payments are left out, nothing else is
    assert sorted(pid for c in chain for pid in c["payment_ids"]) == sorted(p["payment_id"] for p in counted)
    assert sum((c["debits"] for c in chain), Decimal(0)) == sum((p["amount"] for p in counted), Decimal(0))
    # current = previous + debits - credits, chained from 0, never negative
    previous = Decimal(0)
    for cycle in chain:
        assert cycle["previous_balance"] == previous
        assert cycle["current_balance"] == cycle["previous_balance"] + cycle["debits"] - cycle["credits"]
        assert Decimal(0) <= cycle["credits"] <= cycle["debits"]
        assert date.fromisoformat(cycle["real_due_date"]).weekday() < 5
        previous = cycle["current_balance"]
    # the last balance is exactly what is still expected
    assert previous == sum((p["amount"] for p in counted if p["status"] == "expected"), Decimal(0))
