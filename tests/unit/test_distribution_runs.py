"""A run's state machine and its exception rules (docs/distributions.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerline.domain.distributions.run_exceptions import LineView, blocking, detect
from ledgerline.domain.distributions.runs import LIVE, PAYABLE, RunAction, RunStatus, next_status, require_status
from ledgerline.domain.errors import DomainError

S, A = RunStatus, RunAction


@pytest.mark.parametrize(("current", "action", "target"), [
    (S.CALCULATED, A.APPROVE, S.APPROVED),
    (S.CALCULATED, A.CANCEL, S.CANCELED),
    (S.APPROVED, A.CANCEL, S.CANCELED),
    (S.APPROVED, A.MARK_EXPORTED, S.EXPORTED),
])
def test_allowed_moves(current, action, target):
    assert next_status(current, action) is target


def test_exporting_an_exported_run_again_changes_nothing():
    assert next_status(S.EXPORTED, A.MARK_EXPORTED) is None


@pytest.mark.parametrize(("current", "action"), [
    (S.APPROVED, A.APPROVE), (S.EXPORTED, A.APPROVE), (S.CANCELED, A.APPROVE),
    (S.EXPORTED, A.CANCEL), (S.CANCELED, A.CANCEL),
    (S.CALCULATED, A.MARK_EXPORTED), (S.CANCELED, A.MARK_EXPORTED),
])
def test_every_other_move_is_a_409_invalid_state(current, action):
    with pytest.raises(DomainError) as refused:
        next_status(current, action)
    assert refused.value.problem == "invalid-state"
    assert current.value in refused.value.detail


def test_live_and_payable_states():
    assert S.CANCELED not in LIVE and S.EXPORTED in LIVE
    require_status(S.EXPORTED, PAYABLE, "the payment file")
    with pytest.raises(DomainError):
        require_status(S.CALCULATED, PAYABLE, "the payment file")


def holder(iban=None, account=None, bank=None, deleted=False):
    payment = {k: v for k, v in (("iban", iban), ("account_number", account), ("bank_code", bank)) if v}
    return {"name": "n", "payment": payment, **({"deleted": True} if deleted else {})}


def codes(found):
    return [(e.code, e.severity, e.holder_id) for e in found]


def test_a_clean_run_has_no_exceptions():
    lines = [LineView("a", Decimal("1.00")), LineView("b", Decimal("2.00"))]
    holders = {"a": holder(iban="DE89370400440532013000"), "b": holder(account="123", bank="001")}
    assert detect(lines, holders, Decimal(3), Decimal(3)) == []
    assert detect(lines, holders, Decimal(3), None) == []


def test_missing_payment_details_and_deleted_holders_block():
    lines = [LineView("a", Decimal(1)), LineView("b", Decimal(1)), LineView("c", Decimal(1)),
             LineView("gone", Decimal(1))]
    holders = {"a": holder(bank="001"), "b": holder(deleted=True), "c": holder(iban="GB82WEST12345698765432"),
               "gone": None}

    found = detect(lines, holders, Decimal(4), None)

    assert codes(found) == [("missing-payment-details", "blocking", "a"), ("holder-deleted", "blocking", "b"),
                            ("holder-deleted", "blocking", "gone")]
    assert blocking(found) == found


def test_warnings_duplicates_units_mismatch_and_zero_lines():
    lines = [LineView("a", Decimal(1)), LineView("b", Decimal(1)), LineView("c", Decimal(1)),
             LineView("d", Decimal(0))]
    holders = {"a": holder(iban="DE89370400440532013000"), "b": holder(iban="DE89370400440532013000"),
               "c": holder(account="9", bank="X"), "d": holder(account="9", bank="X")}

    found = detect(lines, holders, Decimal("10.5"), Decimal(10))

    assert codes(found) == [
        ("duplicate-payment-details", "warning", "a"), ("duplicate-payment-details", "warning", "b"),
        ("duplicate-payment-details", "warning", "c"), ("duplicate-payment-details", "warning", "d"),
        ("units-mismatch", "warning", None), ("zero-amount-line", "warning", "d"),
    ]
    assert "IBAN with b" in found[0].detail
    assert "10.5" in found[4].detail and "10" in found[4].detail
    assert blocking(found) == []
    assert found[4].as_dict() == {"code": "units-mismatch", "severity": "warning", "detail": found[4].detail}


def test_a_zero_amount_line_needs_no_payment_details():
    found = detect([LineView("a", Decimal(0))], {"a": holder()}, Decimal(1), None)
    assert codes(found) == [("zero-amount-line", "warning", "a")]


def test_the_same_account_number_at_different_banks_is_not_a_duplicate():
    lines = [LineView("a", Decimal(1)), LineView("b", Decimal(1))]
    holders = {"a": holder(account="1", bank="X"), "b": holder(account="1", bank="Y")}
    assert detect(lines, holders, Decimal(2), None) == []


def test_positions_in_force_on_a_day_are_the_latest_effective_on_or_before_it():
    from ledgerline.domain.distributions.positions import units_as_of

    positions = [
        {"holder_id": "a", "units": Decimal(100), "effective_date": "2025-01-01"},
        {"holder_id": "a", "units": Decimal(40), "effective_date": "2025-03-01"},
        {"holder_id": "b", "units": Decimal(10), "effective_date": "2025-02-01T12:00:00Z"},
        {"holder_id": "c", "units": Decimal(5), "effective_date": "2025-06-01"},
    ]
    assert units_as_of(positions, "2025-01-31") == {"a": 100}
    assert units_as_of(positions, "2025-02-01") == {"a": 100}  # b's position starts at noon
    assert units_as_of(positions, "2025-03-01") == {"a": 40, "b": 10}


def test_a_run_keeps_a_bounded_list_of_exceptions_and_counts_them_all():
    from ledgerline.domain.distributions.run_exceptions import MAX_STORED, stored

    lines = [LineView(f"h{n:05d}", Decimal(1)) for n in range(MAX_STORED + 50)]
    holders = {line.holder_id: holder(iban="DE89370400440532013000") for line in lines}

    found = detect(lines, holders, Decimal(len(lines)), None)
    kept, counts = stored(found)

    assert len(found) == MAX_STORED + 50 and len(kept) == MAX_STORED
    assert counts == {"duplicate-payment-details": MAX_STORED + 50}
    assert found[0].detail.endswith(f"and {MAX_STORED + 50 - 6} more")  # 5 others named, the rest counted


def test_ten_thousand_holders_sharing_one_iban_get_short_details():
    lines = [LineView(f"h{n:05d}", Decimal(1)) for n in range(10_000)]
    holders = {line.holder_id: holder(iban="DE89370400440532013000") for line in lines}

    found = detect(lines, holders, Decimal(10_000), None)

    assert len(found) == 10_000
    assert found[0].detail == ("the holder shares its IBAN with h00001, IBAN with h00002, IBAN with h00003, "
                               "IBAN with h00004, IBAN with h00005 and 9994 more")
    assert max(len(e.detail) for e in found) < 200
