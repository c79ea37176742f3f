"""Category `payment` (docs/ingest.md: steps, payment) through `parse` and `decide`.

`World` stands in for the store: it loads what `references` asks for and applies writes,
link counters and installment guards the way `ledgerline.ingest` does over DynamoDB.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerline.domain.category import GuardWrite, Ref
from ledgerline.domain.client import CLIENT
from ledgerline.domain.disbursement import DISBURSEMENT
from ledgerline.domain.payment import PAYMENT
from tests.builders import OMIT
from tests.builders import payment_data as payment
from tests.unit.world import World, pairs, refused

D = Decimal


def move(payment_id: str, status: str, **fields: Any) -> dict[str, Any]:
    """A follow-up event: only what every payment event must carry, plus `fields`."""
    data = {"payment_id": payment_id, "disbursement_id": "D1", "status": status, "due_date": "2024-11-20"}
    return {k: v for k, v in (data | fields).items() if v is not ...}


@pytest.fixture
def world() -> World:
    """Clients C1 (EUR), C2, C3; loan D1 (EUR, C1); purchase P1 (EUR, C1 + C2); loan DU (USD); deleted loan DX."""
    w = World()
    for client_id in ("C1", "C2", "C3"):
        w.send(CLIENT, {"client_id": client_id, "step": "create", "name": client_id, "client_type": "company",
                        **({"currency": "EUR"} if client_id == "C1" else {})})
    loan = {"step": "create", "kind": "loan", "disbursement_amount": D("10000"), "currency": "EUR",
            "total_expected_margin": D("1000"), "client_id": "C1", "disbursement_date": "2024-10-20",
            "maturity_date": "2025-10-20"}
    w.send(DISBURSEMENT, {**loan, "disbursement_id": "D1"})
    w.send(DISBURSEMENT, {**loan, "disbursement_id": "DU", "currency": "USD", "client_id": "C3"})
    w.send(DISBURSEMENT, {**loan, "disbursement_id": "DX", "client_id": "C2"})
    w.send(DISBURSEMENT, {"disbursement_id": "DX", "step": "delete"})
    w.send(DISBURSEMENT, {
        "disbursement_id": "P1", "step": "create", "kind": "purchase", "disbursement_amount": D("5000"),
        "currency": "EUR", "total_expected_margin": D("400"),
        "purchase_clients": [{"client_id": "C1", "share": D("0.5")}, {"client_id": "C2"}],
        "operation_date": "2024-10-20", "payment_date": "2024-10-21", "estimated_delivery_date": "2024-12-01",
        "goods_description": "Tractor", "goods_status": "pending"})
    return w




# create -------------------------------------------------------------------------------------


def test_given_an_expected_installment_when_created_then_stored_with_source_client_and_its_number_claimed(world):
    decision = world.send(PAYMENT, payment())
    assert (decision.outcome, decision.version) == ("Success", 1)
    assert world.record("payments", "PM1") == {
        "payment_id": "PM1", "disbursement_id": "D1", "status": "expected", "amount": D("850.25"),
        "currency": "EUR", "due_date": "2024-11-20", "installment_number": 1, "source": "client",
        "deleted": False,
    }
    assert decision.guards == [GuardWrite(Ref("installments", "D1~1"), "PM1")]
    assert decision.parents == [Ref("disbursements", "D1")]  # re-checked when the write commits


def test_given_an_installment_number_written_with_a_zero_fraction_when_created_then_it_is_that_integer(world):
    # JSON has one number type, and JSON Schema's `integer` accepts 3.0: so does the API.
    world.send(PAYMENT, payment(installment_number=D("3.0")))
    stored = world.record("payments", "PM1")["installment_number"]
    assert stored == 3 and type(stored) is int


@pytest.mark.parametrize("step", [OMIT, "create"], ids=["no-step", "create"])
def test_given_a_new_payment_id_with_or_without_step_when_decided_then_create(world, step):
    world.send(PAYMENT, payment(step=step))
    assert world.record("payments", "PM1")["status"] == "expected"


def test_given_an_explicit_create_without_fields_when_parsed_then_every_create_field_is_required():
    error = refused(PAYMENT.parse, {"payment_id": "PM1", "step": "create"})
    assert error.problem == "validation-error"
    assert pairs(error) == {(f"data.{name}", "required") for name in
                            ("disbursement_id", "status", "due_date", "amount", "currency")}


def test_given_no_step_and_a_new_id_without_amount_and_currency_when_decided_then_both_are_required(world):
    error = refused(world.send, PAYMENT, move("PM1", "expected"))
    assert error.problem == "validation-error"
    assert pairs(error) == {("data.amount", "required"), ("data.currency", "required")}


@pytest.mark.parametrize(("fields", "expected"), [
    pytest.param({"payment_id": "PM#1"}, ("data.payment_id", "invalid-id"), id="id-injection"),
    pytest.param({"payment_id": "../PM1"}, ("data.payment_id", "invalid-id"), id="id-traversal"),
    pytest.param({"payment_id": "-PM1"}, ("data.payment_id", "invalid-id"), id="id-leading-dash"),
    pytest.param({"payment_id": "P" * 129}, ("data.payment_id", "invalid-id"), id="id-129"),
    pytest.param({"disbursement_id": "D1#guard"}, ("data.disbursement_id", "invalid-id"), id="parent-injection"),
    pytest.param({"status": "settled"}, ("data.status", "invalid-value"), id="status"),
    pytest.param({"amount": 0}, ("data.amount", "out-of-range"), id="amount-0"),
    pytest.param({"amount": D("-850.25")}, ("data.amount", "out-of-range"), id="amount-negative"),
    pytest.param({"amount": D("850.25001")}, ("data.amount", "invalid-money"), id="amount-5-places"),
    pytest.param({"amount": D("NaN")}, ("data.amount", "invalid-money"), id="amount-nan"),
    pytest.param({"amount": "850.25"}, ("data.amount", "invalid-type"), id="amount-string"),
    pytest.param({"amount": False}, ("data.amount", "invalid-type"), id="amount-bool"),
    pytest.param({"currency": "Euro"}, ("data.currency", "invalid-currency"), id="currency"),
    pytest.param({"due_date": "2024-11-31"}, ("data.due_date", "invalid-date"), id="due-date-calendar"),
    pytest.param({"payment_date": "2024-11-20 10:00"}, ("data.payment_date", "invalid-date"), id="payment-date"),
    pytest.param({"payment_fee": D("-0.5")}, ("data.payment_fee", "out-of-range"), id="fee-negative"),
    pytest.param({"installment_number": 0}, ("data.installment_number", "out-of-range"), id="installment-0"),
    pytest.param({"installment_number": -3}, ("data.installment_number", "out-of-range"), id="installment-negative"),
    pytest.param({"installment_number": True}, ("data.installment_number", "invalid-type"), id="installment-bool"),
    pytest.param({"installment_number": D("1.5")}, ("data.installment_number", "invalid-type"),
                 id="installment-fraction"),
    pytest.param({"installment_number": D("1E+5")}, ("data.installment_number", "out-of-range"),
                 id="installment-too-large"),
    pytest.param({"installment_number": "2"}, ("data.installment_number", "invalid-type"), id="installment-string"),
    pytest.param({"source": "bank"}, ("data.source", "invalid-value"), id="source"),
    pytest.param({"client_id": "C 1"}, ("data.client_id", "invalid-id"), id="client-id"),
    pytest.param({"principal_amount": D("-1")}, ("data.principal_amount", "out-of-range"), id="principal-negative"),
    pytest.param({"interest_amount": D("1e-5")}, ("data.interest_amount", "invalid-money"), id="interest-places"),
    pytest.param({"info": "note"}, ("data.info", "invalid-type"), id="info"),
    pytest.param({"paid_at": "2024-11-20"}, ("data.paid_at", "unknown-field"), id="unknown-field"),
])
def test_given_a_payment_breaking_one_rule_when_parsed_then_that_field_and_code_are_reported(fields, expected):
    for step in (OMIT, "create"):
        assert pairs(refused(PAYMENT.parse, payment(step=step, **fields))) == {expected}


@pytest.mark.parametrize("step", [OMIT, "create"], ids=["no-step", "create"])
def test_given_principal_plus_interest_above_amount_when_created_then_out_of_range(world, step):
    payload = payment(step=step, principal_amount=D("800"), interest_amount=D("50.26"))
    assert pairs(refused(world.send, PAYMENT, payload)) == {("data.principal_amount", "out-of-range")}


def test_given_principal_plus_interest_equal_to_amount_when_created_then_accepted(world):
    decision = world.send(PAYMENT, payment(principal_amount=D("800"), interest_amount=D("50.25")))
    assert decision.outcome == "Success" and decision.version == 1
    stored = world.record("payments", "PM1")
    assert (stored["principal_amount"], stored["interest_amount"], stored["amount"]) == (D("800"), D("50.25"), D("850.25"))


def test_given_several_broken_fields_when_parsed_then_all_are_listed():
    error = refused(PAYMENT.parse, {"payment_id": "PM1", "status": "late", "amount": -1, "currency": "eur",
                                    "installment_number": 0, "extra": 1})
    assert pairs(error) == {("data.status", "invalid-value"), ("data.amount", "out-of-range"),
                            ("data.currency", "invalid-currency"), ("data.installment_number", "out-of-range"),
                            ("data.extra", "unknown-field"), ("data.disbursement_id", "required"),
                            ("data.due_date", "required")}


def test_given_a_payment_timestamp_without_offset_when_parsed_then_utc_is_assumed_with_a_warning():
    parsed = PAYMENT.parse(payment(status="paid", payment_date="2024-11-20T10:00:00"))
    assert parsed.fields["payment_date"] == "2024-11-20T10:00:00Z"
    assert [(w["field"], w["code"]) for w in parsed.warnings] == [("data.payment_date", "timezone-assumed")]


@pytest.mark.parametrize(("source", "expected"), [(OMIT, "client"), (None, "client"), ("guarantor", "guarantor"),
                                                  ("insurance", "insurance"), ("other", "other")])
def test_given_a_source_or_none_when_created_then_source_defaults_to_client(world, source, expected):
    world.send(PAYMENT, payment(source=source))
    assert world.record("payments", "PM1")["source"] == expected


# the disbursement ---------------------------------------------------------------------------


@pytest.mark.parametrize("disbursement_id", ["D404", "DX"], ids=["unknown", "deleted"])
def test_given_a_disbursement_that_does_not_exist_or_is_deleted_when_decided_then_unknown_reference(
        world, disbursement_id):
    error = refused(world.send, PAYMENT, payment(disbursement_id=disbursement_id))
    assert error.problem == "unknown-reference"
    assert pairs(error) == {("data.disbursement_id", "unknown-reference")}
    assert ("payments", "PM1") not in world.items


def test_given_a_currency_other_than_the_disbursements_when_decided_then_currency_mismatch(world):
    error = refused(world.send, PAYMENT, payment(currency="USD"))
    assert pairs(error) == {("data.currency", "currency-mismatch")}
    assert "EUR" in error.violations[0].message


def test_given_a_payment_of_a_usd_loan_in_usd_when_decided_then_accepted(world):
    decision = world.send(PAYMENT, payment(disbursement_id="DU", currency="USD"))
    assert decision.outcome == "Success"
    assert world.record("payments", "PM1")["disbursement_id"] == "DU"
    assert world.record("payments", "PM1")["currency"] == "USD"


@pytest.mark.parametrize(("fields", "field"), [({"disbursement_id": "DU", "currency": "USD"}, "disbursement_id"),
                                               ({"currency": "USD"}, "currency")])
def test_given_an_update_that_moves_the_payment_to_another_disbursement_or_currency_then_immutable(
        world, fields, field):
    world.send(PAYMENT, payment())
    assert (f"data.{field}", "immutable") in pairs(refused(world.send, PAYMENT, move("PM1", "expected", **fields)))


# client_id ----------------------------------------------------------------------------------


def test_given_a_payment_of_a_purchase_without_client_id_when_decided_then_required(world):
    error = refused(world.send, PAYMENT, payment(disbursement_id="P1"))
    assert pairs(error) == {("data.client_id", "required")}


def test_given_a_payment_of_a_purchase_from_a_non_member_when_decided_then_not_allowed(world):
    error = refused(world.send, PAYMENT, payment(disbursement_id="P1", client_id="C3"))
    assert pairs(error) == {("data.client_id", "not-allowed")}
    assert "purchase clients" in error.violations[0].message


@pytest.mark.parametrize("client_id", ["C1", "C2"])
def test_given_a_payment_of_a_purchase_from_a_member_when_decided_then_accepted(world, client_id):
    world.send(PAYMENT, payment(disbursement_id="P1", client_id=client_id))
    assert world.record("payments", "PM1")["client_id"] == client_id


def test_given_a_payment_of_a_loan_without_client_id_when_decided_then_accepted(world):
    world.send(PAYMENT, payment())
    assert "client_id" not in world.record("payments", "PM1")


def test_given_a_payment_of_a_loan_from_someone_not_a_client_of_it_when_decided_then_not_allowed(world):
    assert pairs(refused(world.send, PAYMENT, payment(client_id="C2"))) == {("data.client_id", "not-allowed")}


# every event carries due_date, disbursement_id and status ----------------------------------


@pytest.mark.parametrize("step", [OMIT, "update"], ids=["no-step", "update"])
@pytest.mark.parametrize("missing", ["due_date", "disbursement_id", "status"])
def test_given_a_follow_up_event_without_an_always_required_field_when_parsed_then_required(step, missing):
    payload = {k: v for k, v in move("PM1", "paid", step=step).items() if k != missing}
    error = refused(PAYMENT.parse, payload)
    assert pairs(error) == {(f"data.{missing}", "required")}


@pytest.mark.parametrize("field", ["due_date", "status"])
def test_given_a_follow_up_event_nulling_an_always_required_field_when_parsed_then_not_allowed(field):
    payload = {**move("PM1", "paid"), field: None}
    assert pairs(refused(PAYMENT.parse, payload)) == {(f"data.{field}", "not-allowed")}


# steps ----------------------------------------------------------------------------------------


def test_given_an_existing_id_and_no_step_when_decided_then_update_with_merge(world):
    world.send(PAYMENT, payment(payment_fee=D("2")))
    decision = world.send(PAYMENT, move("PM1", "paid", payment_date="2024-11-19T15:00:00+01:00"))
    assert decision.version == 2
    assert decision.writes[0].changes == ["payment_date", "status"]
    record = world.record("payments", "PM1")
    assert (record["status"], record["payment_date"], record["amount"], record["payment_fee"]) == \
        ("paid", "2024-11-19T14:00:00Z", D("850.25"), D("2"))


def test_given_an_explicit_create_of_an_existing_payment_when_decided_then_conflict(world):
    world.send(PAYMENT, payment())
    error = refused(world.send, PAYMENT, payment(step="create"))
    assert error.problem == "conflict"
    assert pairs(error) == {("data.payment_id", "conflict")}


@pytest.mark.parametrize("payload", [move("PM404", "paid", step="update"), {"payment_id": "PM404", "step": "delete"}],
                         ids=["update", "delete"])
def test_given_an_update_or_delete_of_an_unknown_payment_when_decided_then_unknown_reference(world, payload):
    error = refused(world.send, PAYMENT, payload)
    assert error.problem == "unknown-reference"
    assert pairs(error) == {("data.payment_id", "unknown-reference")}


def test_given_a_repeat_of_the_stored_values_when_decided_then_unchanged(world):
    world.send(PAYMENT, payment())
    decision = world.send(PAYMENT, payment())
    assert (decision.outcome, decision.version, decision.writes, decision.guards) == ("Unchanged", 1, [], [])


def test_given_an_update_lowering_amount_below_principal_plus_interest_when_decided_then_out_of_range(world):
    world.send(PAYMENT, payment(principal_amount=D("800"), interest_amount=D("50")))
    error = refused(world.send, PAYMENT, move("PM1", "expected", amount=D("800")))
    assert pairs(error) == {("data.principal_amount", "out-of-range")}


def test_given_a_delete_when_decided_then_soft_delete_that_releases_the_installment_number(world):
    world.send(PAYMENT, payment())
    decision = world.send(PAYMENT, {"payment_id": "PM1", "step": "delete"})
    assert world.record("payments", "PM1")["deleted"] is True
    assert decision.guards == [GuardWrite(Ref("installments", "D1~1"), None)]
    assert decision.parents == []  # deleting a payment of a deleted disbursement stays possible


def test_given_a_delete_carrying_more_than_the_id_when_parsed_then_not_allowed():
    error = refused(PAYMENT.parse, {"payment_id": "PM1", "step": "delete", "due_date": "2024-11-20",
                                    "status": "canceled"})
    assert pairs(error) == {("data.due_date", "not-allowed"), ("data.status", "not-allowed")}


def test_given_a_deleted_payment_when_updated_then_conflict(world):
    world.send(PAYMENT, payment())
    world.send(PAYMENT, {"payment_id": "PM1", "step": "delete"})
    assert refused(world.send, PAYMENT, move("PM1", "paid")).problem == "conflict"


# status moves ---------------------------------------------------------------------------------


def at_status(world: World, status: str) -> None:
    world.send(PAYMENT, payment())
    if status != "expected":
        world.send(PAYMENT, move("PM1", status))


@pytest.mark.parametrize(("before", "after"), [("expected", "expected"), ("expected", "paid"),
                                               ("expected", "canceled"), ("paid", "paid"), ("paid", "canceled")])
def test_given_an_allowed_status_move_when_decided_then_accepted(world, before, after):
    at_status(world, before)
    world.send(PAYMENT, move("PM1", after, info={"note": "move"}))
    assert world.record("payments", "PM1")["status"] == after


@pytest.mark.parametrize(("before", "after"), [("paid", "expected"), ("canceled", "expected"),
                                               ("canceled", "paid")])
def test_given_a_forbidden_status_move_when_decided_then_conflict_naming_both_states(world, before, after):
    at_status(world, before)
    error = refused(world.send, PAYMENT, move("PM1", after))
    assert error.problem == "conflict"
    assert f"from {before} to {after}" in error.detail
    assert pairs(error) == {("data.status", "conflict")}
    assert world.record("payments", "PM1")["status"] == before


# installment numbers --------------------------------------------------------------------------


def test_given_an_installment_number_held_by_another_payment_when_decided_then_duplicate(world):
    world.send(PAYMENT, payment("PM1"))
    error = refused(world.send, PAYMENT, payment("PM2", due_date="2024-12-20"))
    assert error.problem == "validation-error"
    assert pairs(error) == {("data.installment_number", "duplicate")}
    assert "PM1" in error.violations[0].message
    assert world.holder("D1", 1) == "PM1"


def test_given_a_loaded_guard_held_by_another_payment_when_decided_directly_then_duplicate():
    # Given what the store loaded: the disbursement, and the guard of installment 3 held by PM9
    parsed = PAYMENT.parse(payment("PM1", installment_number=3))
    disbursement = {"disbursement_id": "D1", "kind": "loan", "currency": "EUR", "client_id": "C1", "deleted": False}
    loaded = {Ref("disbursements", "D1"): disbursement, Ref("installments", "D1~3"): {"payment_id": "PM9"}}
    assert set(PAYMENT.references(parsed, None)) == set(loaded)
    # When decided, Then duplicate
    assert pairs(refused(PAYMENT.decide, parsed, None, loaded)) == {("data.installment_number", "duplicate")}
    # and a guard held by the payment itself is no conflict
    loaded[Ref("installments", "D1~3")] = {"payment_id": "PM1"}
    assert PAYMENT.decide(parsed, None, loaded).outcome == "Success"


def test_given_the_same_number_on_another_disbursement_when_decided_then_accepted(world):
    world.send(PAYMENT, payment("PM1"))
    world.send(PAYMENT, payment("PM2", disbursement_id="DU", currency="USD"))
    assert (world.holder("D1", 1), world.holder("DU", 1)) == ("PM1", "PM2")


def test_given_a_canceled_installment_when_a_new_payment_takes_its_number_then_accepted(world):
    world.send(PAYMENT, payment("PM1"))
    decision = world.send(PAYMENT, move("PM1", "canceled"))
    assert decision.guards == [GuardWrite(Ref("installments", "D1~1"), None)]
    world.send(PAYMENT, payment("PM2"))
    assert world.holder("D1", 1) == "PM2"


def test_given_a_payment_that_changes_its_number_when_decided_then_the_old_is_released_and_the_new_claimed(world):
    world.send(PAYMENT, payment("PM1"))
    decision = world.send(PAYMENT, move("PM1", "expected", installment_number=2))
    assert decision.guards == [GuardWrite(Ref("installments", "D1~1"), None),
                               GuardWrite(Ref("installments", "D1~2"), "PM1")]
    world.send(PAYMENT, payment("PM3"))  # number 1 is free again


def test_given_payments_without_installment_numbers_when_created_then_no_guard(world):
    decision = world.send(PAYMENT, payment("PM1", installment_number=OMIT))
    world.send(PAYMENT, payment("PM2", installment_number=OMIT))
    assert decision.guards == []
