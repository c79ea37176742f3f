"""Extensions, rebates and write-offs from one disbursement update (old image, new image, change)."""

from __future__ import annotations

from decimal import Decimal

from ledgerline.domain.derive.changes import disbursement_changes
from ledgerline.domain.derive.common import Cause

CAUSE = Cause("disbursements", "D1", 3, "ev_9", "2025-02-01", "2025-02-03T10:00:00.000000Z")
OLD = {"disbursement_id": "D1", "kind": "loan", "maturity_date": "2025-10-20", "disbursement_amount": Decimal("10000"),
       "total_expected_margin": Decimal("1293.50"), "deleted": False, "version": 2}
CHANGE = {"change_date": "2025-02-01", "change_reason": "hardship plan"}


def changed(**fields):
    return {**OLD, **fields, "version": 3}


def by_table(rows):
    return {row.table: row for row in rows}


def test_moving_maturity_later_is_an_extension_in_days():
    [row] = disbursement_changes(OLD, changed(maturity_date="2025-12-19"), CHANGE, CAUSE)

    assert row.table == "extensions" and row.id == "D1~disbursements~D1~v3"
    assert row.record == {
        "extension_id": "D1~disbursements~D1~v3", "disbursement_id": "D1", "old_maturity_date": "2025-10-20",
        "new_maturity_date": "2025-12-19", "days_extended": 60, "change_date": "2025-02-01",
        "change_reason": "hardship plan", "cause": {"table": "disbursements", "id": "D1", "version": 3, "event_id": "ev_9"},
        "deleted": False,
    }
    assert row.event == "disbursement_change_outgoing" and row.entity["change_type"] == "extension"
    assert "+60 days" in row.message


def test_moving_maturity_earlier_gives_negative_days():
    [row] = disbursement_changes(OLD, changed(maturity_date="2025-10-05"), CHANGE, CAUSE)

    assert row.record["days_extended"] == -15


def test_maturity_timestamps_count_calendar_days():
    old = {**OLD, "maturity_date": "2025-10-20T23:00:00Z"}
    [row] = disbursement_changes(old, changed(maturity_date="2025-10-21T01:00:00Z"), CHANGE, CAUSE)

    assert row.record["days_extended"] == 1


def test_lowering_the_margin_is_a_rebate_with_exact_amounts():
    [row] = disbursement_changes(OLD, changed(total_expected_margin=Decimal("1100.1")), CHANGE, CAUSE)

    assert row.table == "rebates"
    assert row.record["old_margin"] == Decimal("1293.50") and row.record["new_margin"] == Decimal("1100.1")
    assert row.record["rebate_amount"] == Decimal("193.4") and isinstance(row.record["rebate_amount"], Decimal)
    assert row.entity["change_type"] == "rebate"


def test_raising_the_margin_or_the_amount_derives_nothing():
    new = changed(total_expected_margin=Decimal("2000"), disbursement_amount=Decimal("12000"))

    assert disbursement_changes(OLD, new, {}, CAUSE) == []


def test_lowering_the_amount_is_a_write_off_and_to_zero_a_full_one():
    [partial] = disbursement_changes(OLD, changed(disbursement_amount=Decimal("9999.9999")), CHANGE, CAUSE)
    [full] = disbursement_changes(OLD, changed(disbursement_amount=Decimal("0")), CHANGE, CAUSE)

    assert partial.table == "write_offs" and partial.record["write_off_amount"] == Decimal("0.0001")
    assert full.record["new_amount"] == Decimal("0") and full.record["write_off_amount"] == Decimal("10000")
    assert full.message.endswith("in full") and not partial.message.endswith("in full")


def test_one_update_can_derive_all_three():
    new = changed(maturity_date="2026-01-20", total_expected_margin=Decimal("1000"), disbursement_amount=Decimal("5000"))

    rows = by_table(disbursement_changes(OLD, new, CHANGE, CAUSE))

    assert set(rows) == {"extensions", "rebates", "write_offs"}
    assert {row.id for row in rows.values()} == {"D1~disbursements~D1~v3"}
    assert rows["write_offs"].record["write_off_id"] == "D1~disbursements~D1~v3"


def test_change_date_defaults_to_the_effective_time_and_reason_to_null():
    [row] = disbursement_changes(OLD, changed(maturity_date="2025-11-20"), {}, CAUSE)

    assert row.record["change_date"] == CAUSE.valid_from and row.record["change_reason"] is None


def test_create_delete_and_unrelated_updates_derive_nothing():
    assert disbursement_changes(None, OLD, CHANGE, CAUSE) == []
    assert disbursement_changes(OLD, changed(deleted=True), {}, CAUSE) == []
    assert disbursement_changes({**OLD, "deleted": True}, changed(maturity_date="2026-01-01"), {}, CAUSE) == []
    assert disbursement_changes(OLD, changed(bank_ref="R-1"), {}, CAUSE) == []
