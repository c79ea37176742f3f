"""Category `operation` (docs/ingest.md: steps, operation) through `parse` and `decide`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerline.domain.category import RECORD_META, Decision, Ref
from ledgerline.domain.operation import OPERATION
from tests.unit.world import pairs, refused

D = Decimal
OMIT = ...  # as a builder field value: leave the field out

LOAN_EUR = {"disbursement_id": "D1", "kind": "loan", "currency": "EUR", "client_id": "C1", "deleted": False,
            "version": 1}
DELETED = {**LOAN_EUR, "disbursement_id": "DX", "deleted": True, "version": 2}


def operation(operation_id: str = "O1", **fields: Any) -> dict[str, Any]:
    data = {"operation_id": operation_id, "operation_type": "revenue", "amount": D("12.5"), "currency": "EUR",
            "operation_date": "2024-11-01"}
    return {k: v for k, v in (data | fields).items() if v is not ...}


def send(payload: dict[str, Any], current: dict[str, Any] | None = None,
         disbursements: dict[str, dict[str, Any]] | None = None) -> Decision:
    """Parse and decide, loading the referenced disbursement from `disbursements` like the store would."""
    parsed = OPERATION.parse(payload)
    known = {"D1": LOAN_EUR, "DX": DELETED} if disbursements is None else disbursements
    loaded = {ref: known.get(ref.id) for ref in OPERATION.references(parsed, current)}
    return OPERATION.decide(parsed, current, loaded)


def stored(decision: Decision) -> dict[str, Any]:
    write = decision.writes[0]
    return {**write.record, "version": write.previous_version + 1}


def plain(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in RECORD_META}




# create -------------------------------------------------------------------------------------


def test_given_a_revenue_operation_without_disbursement_when_created_then_stored_as_sent():
    decision = send(operation(description="Late fee"))
    assert (decision.outcome, decision.version, decision.parents) == ("Success", 1, [])
    assert decision.writes[0].record == {"operation_id": "O1", "operation_type": "revenue", "amount": D("12.5"),
                                         "currency": "EUR", "operation_date": "2024-11-01",
                                         "description": "Late fee", "deleted": False}


def test_given_an_operation_with_asset_fields_and_a_disbursement_when_created_then_stored_and_parent_checked():
    decision = send(operation(operation_type="cost", disbursement_id="D1", asset_id="CAR-1", asset_type="vehicle",
                              asset_status="repossessed", asset_value=D("7500")))
    record = decision.writes[0].record
    assert (record["asset_id"], record["asset_status"], record["asset_value"]) == ("CAR-1", "repossessed", D("7500"))
    assert decision.parents == [Ref("disbursements", "D1")]


def test_given_an_explicit_create_without_fields_when_parsed_then_every_create_field_is_required():
    error = refused(OPERATION.parse, {"operation_id": "O1", "step": "create"})
    assert error.problem == "validation-error"
    assert pairs(error) == {("data.operation_type", "required"), ("data.amount", "required"),
                            ("data.currency", "required"), ("data.operation_date", "required")}


def test_given_no_step_and_a_new_id_without_create_fields_when_decided_then_they_are_required():
    error = refused(send, {"operation_id": "O1", "description": "x"})
    assert pairs(error) == {("data.operation_type", "required"), ("data.amount", "required"),
                            ("data.currency", "required"), ("data.operation_date", "required")}


@pytest.mark.parametrize(("fields", "expected"), [
    pytest.param({"operation_id": "O1#x"}, ("data.operation_id", "invalid-id"), id="id-injection"),
    pytest.param({"operation_id": "../O1"}, ("data.operation_id", "invalid-id"), id="id-traversal"),
    pytest.param({"operation_id": "-O1"}, ("data.operation_id", "invalid-id"), id="id-leading-dash"),
    pytest.param({"operation_id": "O" * 129}, ("data.operation_id", "invalid-id"), id="id-129"),
    pytest.param({"operation_type": "fee"}, ("data.operation_type", "invalid-value"), id="type"),
    pytest.param({"amount": 0}, ("data.amount", "out-of-range"), id="amount-0"),
    pytest.param({"amount": D("Infinity")}, ("data.amount", "invalid-money"), id="amount-infinity"),
    pytest.param({"amount": D("0.12345")}, ("data.amount", "invalid-money"), id="amount-places"),
    pytest.param({"amount": "12.5"}, ("data.amount", "invalid-type"), id="amount-string"),
    pytest.param({"currency": "XYZ"}, ("data.currency", "invalid-currency"), id="currency"),
    pytest.param({"operation_date": "2024-02-30"}, ("data.operation_date", "invalid-date"), id="date"),
    pytest.param({"disbursement_id": "D1/../D2"}, ("data.disbursement_id", "invalid-id"), id="parent-id"),
    pytest.param({"description": "d" * 1001}, ("data.description", "too-long"), id="description-1001"),
    pytest.param({"asset_id": "A#1"}, ("data.asset_id", "invalid-id"), id="asset-id"),
    pytest.param({"asset_id": "A1", "asset_status": "stolen"}, ("data.asset_status", "invalid-value"),
                 id="asset-status"),
    pytest.param({"asset_id": "A1", "asset_value": D("-1")}, ("data.asset_value", "out-of-range"),
                 id="asset-value-negative"),
    pytest.param({"asset_id": "A1", "asset_type": "t" * 1001}, ("data.asset_type", "too-long"), id="asset-type"),
    pytest.param({"info": [1]}, ("data.info", "invalid-type"), id="info"),
    pytest.param({"entity": "x"}, ("data.entity", "unknown-field"), id="unknown-field"),
])
def test_given_an_operation_breaking_one_rule_when_parsed_then_that_field_and_code_are_reported(fields, expected):
    for step in (OMIT, "create"):
        assert pairs(refused(OPERATION.parse, operation(step=step, **fields))) == {expected}


@pytest.mark.parametrize("asset_field", [{"asset_type": "vehicle"}, {"asset_status": "active"},
                                         {"asset_value": D("100")}])
@pytest.mark.parametrize("step", [OMIT, "create"], ids=["no-step", "create"])
def test_given_asset_fields_without_asset_id_when_created_then_asset_id_is_required(step, asset_field):
    error = refused(send, operation(step=step, **asset_field))
    assert pairs(error) == {("data.asset_id", "required")}


def test_given_an_asset_id_alone_when_created_then_accepted():
    assert send(operation(asset_id="A1")).writes[0].record["asset_id"] == "A1"


# the linked disbursement --------------------------------------------------------------------


@pytest.mark.parametrize("disbursement_id", ["D404", "DX"], ids=["unknown", "deleted"])
def test_given_a_linked_disbursement_that_does_not_exist_or_is_deleted_then_unknown_reference(disbursement_id):
    error = refused(send, operation(disbursement_id=disbursement_id))
    assert error.problem == "unknown-reference"
    assert pairs(error) == {("data.disbursement_id", "unknown-reference")}


def test_given_a_currency_other_than_the_linked_disbursements_when_decided_then_currency_mismatch():
    error = refused(send, operation(disbursement_id="D1", currency="USD"))
    assert pairs(error) == {("data.currency", "currency-mismatch")}


def test_given_no_linked_disbursement_when_decided_then_any_currency_is_fine_and_nothing_is_loaded():
    parsed = OPERATION.parse(operation(currency="JPY", amount=1000))
    assert OPERATION.references(parsed, None) == []
    assert send(operation(currency="JPY", amount=1000)).outcome == "Success"


# steps ----------------------------------------------------------------------------------------


@pytest.fixture
def fee() -> dict[str, Any]:
    return stored(send(operation(disbursement_id="D1", asset_id="A1", asset_status="active")))


def test_given_an_existing_id_and_no_step_when_decided_then_update_with_merge(fee):
    decision = send({"operation_id": "O1", "asset_status": "impaired", "asset_value": D("10")}, fee)
    assert decision.version == 2
    assert decision.writes[0].changes == ["asset_status", "asset_value"]
    assert plain(decision.writes[0].record) == {**plain(fee), "asset_status": "impaired", "asset_value": D("10")}


def test_given_a_repeat_of_the_stored_values_when_decided_then_unchanged(fee):
    decision = send(operation(disbursement_id="D1", asset_id="A1"), fee)
    assert (decision.outcome, decision.version, decision.writes) == ("Unchanged", 1, [])


def test_given_an_explicit_create_of_an_existing_operation_when_decided_then_conflict(fee):
    assert refused(send, operation(step="create"), fee).problem == "conflict"


@pytest.mark.parametrize("payload", [{"operation_id": "O9", "step": "update", "description": "x"},
                                     {"operation_id": "O9", "step": "delete"}], ids=["update", "delete"])
def test_given_an_update_or_delete_of_an_unknown_operation_when_decided_then_unknown_reference(payload):
    error = refused(send, payload)
    assert error.problem == "unknown-reference"
    assert pairs(error) == {("data.operation_id", "unknown-reference")}


def test_given_an_update_clearing_asset_id_while_asset_fields_remain_when_decided_then_required(fee):
    assert pairs(refused(send, {"operation_id": "O1", "asset_id": None}, fee)) == {("data.asset_id", "required")}


@pytest.mark.parametrize("field", ["operation_type", "amount", "currency", "operation_date"])
def test_given_an_update_nulling_a_create_field_when_decided_then_not_allowed(fee, field):
    assert pairs(refused(send, {"operation_id": "O1", field: None}, fee)) == {(f"data.{field}", "not-allowed")}


def test_given_an_update_moving_to_a_disbursement_in_another_currency_when_decided_then_currency_mismatch(fee):
    usd = {**LOAN_EUR, "disbursement_id": "DU", "currency": "USD"}
    error = refused(send, {"operation_id": "O1", "disbursement_id": "DU"}, fee, {"DU": usd})
    assert pairs(error) == {("data.currency", "currency-mismatch")}


def test_given_a_delete_when_decided_then_soft_delete_without_parent_check(fee):
    decision = send({"operation_id": "O1", "step": "delete"}, fee)
    assert plain(decision.writes[0].record) == {**plain(fee), "deleted": True}
    assert decision.parents == []


def test_given_a_delete_carrying_more_than_the_id_when_parsed_then_not_allowed():
    error = refused(OPERATION.parse, {"operation_id": "O1", "step": "delete", "amount": 1})
    assert pairs(error) == {("data.amount", "not-allowed")}


def test_given_a_deleted_operation_when_updated_then_conflict(fee):
    deleted = stored(send({"operation_id": "O1", "step": "delete"}, fee))
    assert refused(send, {"operation_id": "O1", "description": "again"}, deleted).problem == "conflict"
