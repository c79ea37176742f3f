"""The disbursement status machine, on the pure derivation (no storage)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerline.domain.derive.common import Cause
from ledgerline.domain.derive.status import derive_status, next_due, status_row

TODAY = date(2025, 1, 14)  # a Tuesday
CAUSE = Cause("payments", "PM1", 2, "ev_1", "2025-01-14T08:00:00.000001Z", "2025-01-14T08:00:00.000001Z")


def loan(**fields):
    return {"disbursement_id": "D1", "kind": "loan", "disbursement_amount": Decimal("10000"), "deleted": False} | fields


def pay(payment_id, status="expected", due="2025-02-12", amount="100", **fields):
    return {"payment_id": payment_id, "disbursement_id": "D1", "status": status, "due_date": due,
            "amount": Decimal(amount), "deleted": False} | fields


def test_a_new_disbursement_without_payments_is_ongoing():
    assert derive_status(loan(), [], TODAY).status == "ongoing"


def test_expected_payments_due_later_or_today_keep_it_ongoing():
    payments = [pay("PM1", due="2025-01-14"), pay("PM2", due="2025-02-14")]

    assert derive_status(loan(), payments, TODAY).status == "ongoing"


def test_an_expected_payment_due_before_the_processing_date_makes_it_overdue():
    verdict = derive_status(loan(), [pay("PM1", due="2025-01-12"), pay("PM2", due="2025-02-12")], TODAY)

    assert verdict.status == "overdue"
    assert verdict.overdue_since == date(2025, 1, 13)  # the day after the due date
    assert "PM1" in verdict.reason and "PM2" not in verdict.reason


def test_a_due_timestamp_counts_by_its_calendar_day():
    late_on_the_day = pay("PM1", due="2025-01-14T23:59:59Z")
    day_before = pay("PM1", due="2025-01-13T23:59:59Z")

    assert derive_status(loan(), [late_on_the_day], TODAY).status == "ongoing"
    assert derive_status(loan(), [day_before], TODAY).status == "overdue"


def test_paying_the_late_installment_cures_it_back_to_ongoing():
    before = derive_status(loan(), [pay("PM1", due="2025-01-12"), pay("PM2")], TODAY)
    after = derive_status(loan(), [pay("PM1", "paid", due="2025-01-12"), pay("PM2")], TODAY)
    row = status_row("D1", before.status, after, CAUSE)

    assert (before.status, after.status) == ("overdue", "ongoing")
    assert row.record["previous_status"] == "overdue" and row.record["status"] == "ongoing"
    assert row.record["reason"].startswith("overdue payments cured")


def test_canceling_the_late_installment_also_cures_it():
    payments = [pay("PM1", "canceled", due="2025-01-12"), pay("PM2")]

    assert derive_status(loan(), payments, TODAY).status == "ongoing"


def test_settled_when_every_payment_that_is_not_canceled_is_paid():
    payments = [pay("PM1", "paid", due="2025-01-12"), pay("PM2", "paid"), pay("PM3", "canceled", due="2024-12-01")]

    verdict = derive_status(loan(), payments, TODAY)

    assert verdict.status == "settled"
    assert "2 payments" in verdict.reason


def test_not_settled_while_one_payment_is_still_expected():
    assert derive_status(loan(), [pay("PM1", "paid"), pay("PM2")], TODAY).status == "ongoing"


def test_only_canceled_payments_is_not_settled():
    # "has payments" means payments that count: a schedule canceled entirely settles nothing.
    assert derive_status(loan(), [pay("PM1", "canceled"), pay("PM2", "canceled")], TODAY).status == "ongoing"


def test_deleted_payments_do_not_count_at_all():
    payments = [pay("PM1", due="2025-01-01", deleted=True), pay("PM2", "paid")]

    assert derive_status(loan(), payments, TODAY).status == "settled"


def test_written_off_when_the_amount_reaches_zero_even_if_payments_are_late():
    verdict = derive_status(loan(disbursement_amount=Decimal("0")), [pay("PM1", due="2025-01-01")], TODAY)

    assert verdict.status == "written_off"


def test_a_partial_write_off_changes_nothing_about_the_status():
    assert derive_status(loan(disbursement_amount=Decimal("0.0001")), [], TODAY).status == "ongoing"


def test_canceled_on_delete_whatever_else_holds():
    deleted = loan(deleted=True, disbursement_amount=Decimal("0"))

    assert derive_status(deleted, [pay("PM1", "paid")], TODAY).status == "canceled"


def test_next_due_is_the_earliest_expected_day():
    payments = [pay("PM1", "paid", due="2025-01-01"), pay("PM2", due="2025-03-01"), pay("PM3", due="2025-02-01T10:00:00Z"),
                pay("PM4", "canceled", due="2025-01-15")]

    assert next_due(payments) == date(2025, 2, 1)
    assert next_due([pay("PM1", "paid")]) is None


# -- status rows ------------------------------------------------------------------------------


def test_no_row_while_the_status_stays():
    assert status_row("D1", "ongoing", derive_status(loan(), [], TODAY), CAUSE) is None


def test_the_first_row_says_created_and_has_no_previous_status():
    row = status_row("D1", None, derive_status(loan(), [], TODAY), CAUSE)

    assert row.table == "disbursement_status"
    assert row.record == {
        "status_id": "D1~payments~PM1~v2", "disbursement_id": "D1", "status": "ongoing", "previous_status": None,
        "reason": "disbursement created", "valid_from": CAUSE.valid_from,
        "cause": {"table": "payments", "id": "PM1", "version": 2, "event_id": "ev_1"}, "deleted": False,
    }
    assert row.event == "disbursement_status_update_outgoing"


def test_row_id_comes_from_the_cause_and_never_holds_a_hash():
    other = Cause("disbursements", "D1", 7, "ev_2", "2025-01-01", "2025-01-01T00:00:00.000000Z")
    row = status_row("D1", "ongoing", derive_status(loan(deleted=True), [], TODAY), other)

    assert row.id == "D1~disbursements~D1~v7" and "#" not in row.id
    assert row.record["status"] == "canceled" and row.record["reason"] == "the disbursement was deleted"


def test_the_sweep_dates_overdue_from_the_day_after_the_due_date():
    sweep = Cause.sweep(date(2025, 1, 20), "2025-01-20T00:05:00.000000Z")
    verdict = derive_status(loan(), [pay("PM1", due="2025-01-12")], date(2025, 1, 20))

    row = status_row("D1", "ongoing", verdict, sweep)

    assert row.id == "D1~sweep~2025-01-20"
    assert row.record["valid_from"] == "2025-01-13"
    assert row.record["cause"] == {"table": "sweep", "id": "2025-01-20", "version": None, "event_id": "sweep_2025-01-20"}


@pytest.mark.parametrize(("previous", "message"), [
    (None, "Disbursement D1 status is overdue"),
    ("ongoing", "Disbursement D1 status changed from ongoing to overdue"),
])
def test_messages_name_the_move(previous, message):
    row = status_row("D1", previous, derive_status(loan(), [pay("PM1", due="2025-01-01")], TODAY), CAUSE)

    assert row.message == message
