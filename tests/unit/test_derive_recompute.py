"""Per-disbursement recomputation: what changes, as of when, and what a replay does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerline.domain.derive import disbursement_of, operation_of, recompute
from ledgerline.domain.derive.common import Cause

TODAY = date(2025, 1, 14)
LOAN = {"disbursement_id": "D1", "currency": "EUR", "disbursement_amount": Decimal("1000"), "deleted": False,
        "version": 1, "created_at": "2025-01-01T00:00:00.000000Z"}


def cause(table, record_id, version, at):
    return Cause(table, record_id, version, f"ev_{record_id}_{version}", at, at)


def pay(payment_id, created_at, status="expected", due="2025-01-12"):
    return {"payment_id": payment_id, "disbursement_id": "D1", "status": status, "due_date": due,
            "amount": Decimal("100"), "deleted": False, "created_at": created_at}


def stored(result, version=1):
    return {**result.statement.record, "version": version}


def test_create_before_its_payments_is_ongoing_even_when_processed_late():
    # The worker sees the create after the payment already exists: it applies the create as of
    # its own time, so history still shows ongoing first.
    payments = [pay("PM1", "2025-01-02T00:00:00.000000Z")]
    first = recompute(LOAN, payments, None, TODAY, cause("disbursements", "D1", 1, "2025-01-01T00:00:00.000000Z"))
    second = recompute(LOAN, payments, stored(first), TODAY, cause("payments", "PM1", 1, "2025-01-02T00:00:00.000000Z"))

    assert first.status == "ongoing" and first.statement.record["statements"] == []
    assert first.statement.record["as_of"] == "2025-01-01T00:00:00.000000Z"
    assert second.status == "overdue"
    assert second.status_change.record["previous_status"] == "ongoing"
    assert second.statement.record["as_of"] == "2025-01-02T00:00:00.000000Z"


def test_a_replayed_older_cause_changes_nothing():
    payments = [pay("PM1", "2025-01-02T00:00:00.000000Z")]
    late = recompute(LOAN, payments, None, TODAY, cause("payments", "PM1", 1, "2025-01-02T00:00:00.000000Z"))

    replay = recompute(LOAN, payments, stored(late), TODAY, cause("disbursements", "D1", 1, "2025-01-01T00:00:00.000000Z"))

    assert replay.rows == [] and replay.status == "overdue"


def test_the_same_cause_twice_changes_nothing_the_second_time():
    c = cause("payments", "PM1", 1, "2025-01-02T00:00:00.000000Z")
    payments = [pay("PM1", "2025-01-02T00:00:00.000000Z")]
    first = recompute(LOAN, payments, None, TODAY, c)

    again = recompute(LOAN, payments, stored(first), TODAY, c)

    assert first.rows and again.rows == []


def test_the_disbursement_image_stands_for_the_disbursement_as_of_its_own_change():
    later = {**LOAN, "disbursement_amount": Decimal("0"), "version": 2}
    result = recompute(later, [], None, TODAY, cause("disbursements", "D1", 1, "2025-01-01T00:00:00.000000Z"), LOAN)

    assert result.status == "ongoing"


def test_status_change_comes_with_a_statement_change_and_moves_the_sweep_entry():
    payments = [pay("PM1", "2025-01-02T00:00:00.000000Z", due="2025-02-12")]
    normal = recompute(LOAN, payments, None, TODAY, cause("payments", "PM1", 1, "2025-01-02T00:00:00.000000Z"))
    sweep = Cause.sweep(date(2025, 2, 13), "2025-02-13T00:05:00.000000Z")

    overdue = recompute(LOAN, payments, stored(normal), date(2025, 2, 13), sweep)

    assert (normal.sweep_before, normal.sweep_after) == (None, date(2025, 2, 12))
    assert overdue.status == "overdue" and overdue.statement is not None
    assert (overdue.sweep_before, overdue.sweep_after) == (date(2025, 2, 12), None)
    assert overdue.status_change.record["valid_from"] == "2025-02-13"


@pytest.mark.parametrize(("old", "new", "operation"), [
    (None, {"version": 1}, "CREATION"),
    ({"deleted": False}, {"version": 2, "deleted": True}, "DELETION"),
    ({"deleted": False}, {"version": 2}, "UPDATE"),
    (None, {"version": 3}, "UPDATE"),  # no old image, but not the first version
])
def test_operation_of_a_change(old, new, operation):
    assert operation_of(old, new) == operation


def test_disbursement_of_a_change():
    assert disbursement_of("disbursements", {"disbursement_id": "D1"}) == "D1"
    assert disbursement_of("payments", {"payment_id": "PM1", "disbursement_id": "D2"}) == "D2"
    assert disbursement_of("operations", {"operation_id": "O1", "disbursement_id": "D1"}) is None
    with pytest.raises(ValueError, match="no disbursement_id"):
        disbursement_of("payments", {"payment_id": "PM1"})


def test_the_triggering_payment_is_taken_as_of_its_change():
    paid_later = {**pay("PM1", "2025-01-02T00:00:00.000000Z", status="paid"), "version": 2}
    as_created = {**pay("PM1", "2025-01-02T00:00:00.000000Z"), "version": 1}

    first = recompute(LOAN, [paid_later], None, TODAY, cause("payments", "PM1", 1, "2025-01-02T00:00:00.000000Z"),
                      payment_at_cause=as_created)
    receipt = recompute(LOAN, [as_created], stored(first), TODAY,
                        cause("payments", "PM1", 2, "2025-01-03T00:00:00.000000Z"), payment_at_cause=paid_later)

    assert first.status == "overdue"  # as of its creation, PM1 was expected and late
    assert receipt.status == "settled"  # the index still had version 1; the image is newer


def test_an_older_cause_arriving_late_catches_up_with_the_current_state():
    # The safety net for an index that lagged behind the stream: whatever is current counts.
    paid = {**pay("PM1", "2025-01-02T00:00:00.000000Z", status="paid"), "version": 2}
    as_created = {**pay("PM1", "2025-01-02T00:00:00.000000Z"), "version": 1}
    first = recompute(LOAN, [paid], None, TODAY, cause("payments", "PM1", 1, "2025-01-02T00:00:00.000000Z"),
                      payment_at_cause=as_created)

    late = recompute(LOAN, [paid], stored(first), TODAY, cause("disbursements", "D1", 1, "2025-01-01T00:00:00.000000Z"),
                     payment_at_cause=None)

    assert late.status == "settled" and late.statement.record["as_of"] == first.statement.record["as_of"]
