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


# -- valid time of status rows: business time ------------------------------------------------------

SENT_TODAY = Cause("disbursements", "D1", 1, "ev_1", "2025-06-10T09:00:00.000000Z", "2025-06-10T09:00:00.000000Z")


@pytest.mark.parametrize(("disbursement", "since"), [
    (loan(disbursement_date="2024-12-01"), "2024-12-01"),
    ({**loan(kind="purchase"), "operation_date": "2024-11-15T10:00:00Z"}, "2024-11-15T10:00:00Z"),
])
def test_ongoing_on_create_is_valid_from_the_disbursement_or_operation_date(disbursement, since):
    row = status_row("D1", None, derive_status(disbursement, [], date(2025, 6, 10)), SENT_TODAY)

    assert row.record["status"] == "ongoing" and row.record["valid_from"] == since


def test_settled_is_valid_from_the_last_payment_date_else_its_due_date():
    payments = [pay("PM1", "paid", due="2025-01-12", payment_date="2025-01-10"),
                pay("PM2", "paid", due="2025-02-12", payment_date="2025-02-20T15:00:00Z"),
                pay("PM3", "paid", due="2025-02-14")]

    row = status_row("D1", "ongoing", derive_status(loan(), payments, date(2025, 6, 10)), SENT_TODAY)

    assert row.record["status"] == "settled" and row.record["valid_from"] == "2025-02-20T15:00:00Z"
    no_payment_dates = [pay("PM1", "paid", due="2025-01-12"), pay("PM2", "paid", due="2025-02-12")]
    assert derive_status(loan(), no_payment_dates, TODAY).since == "2025-02-12"


def test_overdue_found_by_any_change_is_valid_from_the_day_after_the_oldest_unpaid_due_date():
    verdict = derive_status(loan(), [pay("PM1", due="2025-01-12"), pay("PM2", due="2025-01-05")], date(2025, 6, 10))

    row = status_row("D1", "ongoing", verdict, SENT_TODAY)

    assert row.record["valid_from"] == "2025-01-06"
    assert row.record["reason"] == "expected payment PM2 past due since 2025-01-05"


def test_cured_is_valid_from_the_payment_date_that_cured_it():
    after = derive_status(loan(), [pay("PM1", "paid", due="2025-01-12"), pay("PM2")], TODAY)

    row = status_row("D1", "overdue", after, CAUSE, cured_on="2025-01-13")

    assert (row.record["status"], row.record["valid_from"]) == ("ongoing", "2025-01-13")


def test_written_off_and_canceled_are_valid_from_the_change():
    write_off = Cause("disbursements", "D1", 2, "ev_2", "2025-06-03", "2025-06-10T09:00:00.000000Z")
    row = status_row("D1", "ongoing", derive_status(loan(disbursement_amount=Decimal("0")), [], TODAY), write_off)
    assert (row.record["status"], row.record["valid_from"]) == ("written_off", "2025-06-03")

    row = status_row("D1", "ongoing", derive_status(loan(deleted=True), [], TODAY), SENT_TODAY)
    assert (row.record["status"], row.record["valid_from"]) == ("canceled", SENT_TODAY.valid_from)


def test_a_stated_effective_at_wins():
    stated = Cause("payments", "PM1", 2, "ev_3", "2025-03-01", "2025-06-10T09:00:00.000000Z",
                   effective_at="2025-03-01")
    verdict = derive_status(loan(disbursement_date="2024-12-01"), [pay("PM1", due="2025-01-12")], date(2025, 6, 10))

    assert status_row("D1", "ongoing", verdict, stated).record["valid_from"] == "2025-03-01"


@pytest.mark.parametrize("found_on", [date(2025, 1, 13), date(2025, 1, 20), date(2025, 3, 1), date(2026, 1, 1)])
def test_the_sweep_writes_the_same_row_whatever_day_it_runs(found_on):
    payments = [pay("PM1", due="2025-01-12"), pay("PM2", due="2025-02-12")]
    sweep = Cause.sweep(found_on, f"{found_on.isoformat()}T00:05:00.000000Z")

    row = status_row("D1", "ongoing", derive_status(loan(), payments, found_on), sweep)

    assert {k: row.record[k] for k in ("status", "previous_status", "reason", "valid_from")} == {
        "status": "overdue", "previous_status": "ongoing", "valid_from": "2025-01-13",
        "reason": "expected payment PM1 past due since 2025-01-12"}
