"""Category `disbursement` (docs/ingest.md: steps, disbursement) through `parse` and `decide`.

`World` stands in for the store: it loads what `references` asks for, applies the writes,
link counters and guards of each decision, the way `ledgerline.ingest` does over DynamoDB.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerline.domain.client import CLIENT
from ledgerline.domain.disbursement import DISBURSEMENT
from tests.builders import OMIT
from tests.builders import loan_data as loan
from tests.unit.world import World, pairs, refused

D = Decimal


def purchase(disbursement_id: str = "P1", step: str = "create", **fields: Any) -> dict[str, Any]:
    data = {"disbursement_id": disbursement_id, "step": step}
    if step == "create":
        data |= {"kind": "purchase", "disbursement_amount": D("5000"), "currency": "EUR",
                 "total_expected_margin": D("400"),
                 "purchase_clients": [{"client_id": "C1", "share": D("0.6")}, {"client_id": "C2"}],
                 "operation_date": "2024-10-20", "payment_date": "2024-10-21",
                 "estimated_delivery_date": "2024-12-01", "goods_description": "Tractor", "goods_status": "pending"}
    return {k: v for k, v in (data | fields).items() if v is not ...}


# `...` as a field value in the builders above means "leave the field out".


@pytest.fixture
def world() -> World:
    """Clients C1 (EUR), C2 (no currency), C3 (USD), C4 (no currency) and C9 (deleted)."""
    w = World()
    for client_id, currency in (("C1", "EUR"), ("C2", None), ("C3", "USD"), ("C4", None), ("C9", None)):
        extra = {"currency": currency} if currency else {}
        w.send(CLIENT, {"client_id": client_id, "step": "create", "name": client_id, "client_type": "company",
                        **extra})
    w.send(CLIENT, {"client_id": "C9", "step": "delete"})
    return w




def parse_refused(payload: dict[str, Any]) -> set[tuple[str, str]]:
    error = refused(DISBURSEMENT.parse, payload)
    assert error.problem == "validation-error"
    return pairs(error)


# create: loan -------------------------------------------------------------------------------


def test_given_a_valid_loan_when_created_then_defaults_are_filled_and_the_client_is_linked(world):
    decision = world.send(DISBURSEMENT, loan())
    assert (decision.outcome, decision.version) == ("Success", 1)
    assert [w.table for w in decision.writes] == ["disbursements"]
    assert world.record("disbursements", "D1") == {
        "disbursement_id": "D1", "kind": "loan", "disbursement_amount": D("10000"), "currency": "EUR",
        "total_expected_margin": D("1293.50"), "client_id": "C1", "disbursement_date": "2024-10-20",
        "maturity_date": "2025-10-20", "upfront_fee": D(0), "gross_value": D("10000"), "deleted": False,
    }
    assert decision.client_links == {"C1": 1}


def test_given_a_loan_with_only_client_ids_when_created_then_the_first_is_the_primary_borrower(world):
    decision = world.send(DISBURSEMENT, loan(client_id=OMIT, client_ids=["C2", "C1"]))
    assert world.record("disbursements", "D1")["client_id"] == "C2"
    assert decision.client_links == {"C1": 1, "C2": 1}


def test_given_a_loan_with_client_id_and_client_ids_when_created_then_client_id_is_the_primary(world):
    decision = world.send(DISBURSEMENT, loan(client_id="C4", client_ids=["C2", "C1"]))
    assert world.record("disbursements", "D1")["client_id"] == "C4"
    assert decision.client_links == {"C1": 1, "C2": 1, "C4": 1}


def test_given_a_create_without_any_field_when_parsed_then_every_base_field_is_required():
    assert parse_refused({"disbursement_id": "D1", "step": "create"}) == {
        ("data.kind", "required"), ("data.disbursement_amount", "required"), ("data.currency", "required"),
        ("data.total_expected_margin", "required"),
    }


def test_given_a_loan_without_dates_or_client_when_parsed_then_each_is_required():
    payload = loan(disbursement_date=OMIT, maturity_date=OMIT, client_id=OMIT)
    assert parse_refused(payload) == {("data.disbursement_date", "required"), ("data.maturity_date", "required"),
                                      ("data.client_id", "required")}


@pytest.mark.parametrize("clients", [{"client_id": OMIT, "client_ids": []}, {"client_id": None},
                                     {"client_id": OMIT, "client_ids": None}, {"client_id": None, "client_ids": []}])
def test_given_a_loan_with_an_empty_client_list_when_parsed_then_a_client_is_required(clients):
    assert parse_refused(loan(**clients)) == {("data.client_id", "required")}


@pytest.mark.parametrize(("fields", "expected"), [
    pytest.param({"disbursement_amount": 0}, ("data.disbursement_amount", "out-of-range"), id="amount-0"),
    pytest.param({"disbursement_amount": D("-1")}, ("data.disbursement_amount", "out-of-range"), id="amount-neg"),
    pytest.param({"disbursement_amount": D("1E+12") + 1}, ("data.disbursement_amount", "out-of-range"),
                 id="amount-above-10-12"),
    pytest.param({"disbursement_amount": D("1.23456")}, ("data.disbursement_amount", "invalid-money"),
                 id="amount-5-places"),
    pytest.param({"disbursement_amount": D("NaN")}, ("data.disbursement_amount", "invalid-money"), id="amount-nan"),
    pytest.param({"disbursement_amount": D("Infinity")}, ("data.disbursement_amount", "invalid-money"),
                 id="amount-infinity"),
    pytest.param({"disbursement_amount": "10000"}, ("data.disbursement_amount", "invalid-type"), id="amount-string"),
    pytest.param({"disbursement_amount": True}, ("data.disbursement_amount", "invalid-type"), id="amount-bool"),
    pytest.param({"total_expected_margin": D("-0.01")}, ("data.total_expected_margin", "out-of-range"),
                 id="margin-negative"),
    pytest.param({"upfront_fee": D("-1")}, ("data.upfront_fee", "out-of-range"), id="fee-negative"),
    pytest.param({"gross_value": "x"}, ("data.gross_value", "invalid-type"), id="gross-string"),
    pytest.param({"currency": "EURO"}, ("data.currency", "invalid-currency"), id="currency"),
    pytest.param({"kind": "lease"}, ("data.kind", "invalid-value"), id="kind"),
    pytest.param({"disbursement_id": "D1#v0"}, ("data.disbursement_id", "invalid-id"), id="id-injection"),
    pytest.param({"disbursement_id": "../D1"}, ("data.disbursement_id", "invalid-id"), id="id-traversal"),
    pytest.param({"disbursement_id": "-D1"}, ("data.disbursement_id", "invalid-id"), id="id-leading-dash"),
    pytest.param({"disbursement_id": "D" * 129}, ("data.disbursement_id", "invalid-id"), id="id-129"),
    pytest.param({"client_id": "C1#x"}, ("data.client_id", "invalid-id"), id="client-id-injection"),
    pytest.param({"client_ids": ["C1", "a#b"]}, ("data.client_ids[1]", "invalid-id"), id="client-ids-injection"),
    pytest.param({"client_ids": "C1"}, ("data.client_ids", "invalid-type"), id="client-ids-string"),
    pytest.param({"client_ids": ["C1", "C1"]}, ("data.client_ids", "duplicate"), id="client-ids-duplicate"),
    pytest.param({"client_ids": [f"C{i}" for i in range(16)]}, ("data.client_ids", "too-long"),
                 id="client-ids-16"),
    pytest.param({"maturity_date": "2025-02-29"}, ("data.maturity_date", "invalid-date"), id="maturity-calendar"),
    pytest.param({"maturity_date": "2024-10-19"}, ("data.maturity_date", "date-order"), id="maturity-before"),
    pytest.param({"maturity_date": "2024-10-20"}, ("data.maturity_date", "date-order"), id="maturity-same-day"),
    pytest.param({"maturity_date": "2024-10-20T00:00:00Z"}, ("data.maturity_date", "date-order"),
                 id="maturity-same-instant"),
    pytest.param({"maturity_date": "2024-10-20T01:00:00+02:00"}, ("data.maturity_date", "date-order"),
                 id="maturity-earlier-in-utc"),
    pytest.param({"goods_status": "pending"}, ("data.goods_status", "not-allowed"), id="loan-with-goods-status"),
    pytest.param({"purchase_clients": [{"client_id": "C1"}]}, ("data.purchase_clients", "not-allowed"),
                 id="loan-with-purchase-clients"),
    pytest.param({"operation_date": "2024-10-20"}, ("data.operation_date", "not-allowed"),
                 id="loan-with-operation-date"),
    pytest.param({"bank_ref": "x" * 1001}, ("data.bank_ref", "too-long"), id="bank-ref-1001"),
    pytest.param({"pledge_creditor": ""}, ("data.pledge_creditor", "too-short"), id="pledge-empty"),
    pytest.param({"info": [1]}, ("data.info", "invalid-type"), id="info-array"),
    pytest.param({"loan_id": "L1"}, ("data.loan_id", "unknown-field"), id="unknown-field"),
    pytest.param({"change_reason": "r" * 501}, ("data.change_reason", "too-long"), id="change-reason-501"),
    pytest.param({"change_date": "2024-13-01"}, ("data.change_date", "invalid-date"), id="change-date"),
])
def test_given_a_loan_breaking_one_rule_when_parsed_then_that_field_and_code_are_reported(fields, expected):
    assert parse_refused(loan(**fields)) == {expected}


def test_given_a_loan_with_zero_margin_and_a_maturity_one_second_later_when_created_then_accepted(world):
    world.send(DISBURSEMENT, loan(total_expected_margin=0, maturity_date="2024-10-20T00:00:01Z"))
    assert world.record("disbursements", "D1")["total_expected_margin"] == 0


def test_given_a_loan_with_fee_and_no_gross_value_when_created_then_gross_is_amount_plus_fee(world):
    world.send(DISBURSEMENT, loan(upfront_fee=D("150.25"), gross_value=None))
    record = world.record("disbursements", "D1")
    assert (record["upfront_fee"], record["gross_value"]) == (D("150.25"), D("10150.25"))


def test_given_null_fee_and_explicit_gross_value_when_created_then_fee_is_0_and_gross_is_kept(world):
    world.send(DISBURSEMENT, loan(upfront_fee=None, gross_value=D("9999.99")))
    record = world.record("disbursements", "D1")
    assert (record["upfront_fee"], record["gross_value"]) == (D(0), D("9999.99"))


# create: purchase ---------------------------------------------------------------------------


def test_given_a_valid_purchase_when_created_then_purchase_client_rows_are_written_with_it(world):
    decision = world.send(DISBURSEMENT, purchase())
    record = world.record("disbursements", "P1")
    assert record["client_id"] == "C1"  # no client_id sent: the first purchase client
    rows = {w.id: w.record for w in decision.writes if w.table == "purchase_clients"}
    assert rows == {
        "P1~C1": {"purchase_client_id": "P1~C1", "disbursement_id": "P1", "client_id": "C1", "share": D("0.6"),
                  "deleted": False},
        "P1~C2": {"purchase_client_id": "P1~C2", "disbursement_id": "P1", "client_id": "C2", "deleted": False},
    }
    assert decision.client_links == {"C1": 1, "C2": 1}


def test_given_a_purchase_with_client_id_of_a_purchase_client_when_created_then_it_is_the_primary(world):
    world.send(DISBURSEMENT, purchase(client_id="C2"))
    assert world.record("disbursements", "P1")["client_id"] == "C2"


def test_given_a_purchase_without_its_specific_fields_when_parsed_then_each_is_required():
    payload = purchase(operation_date=OMIT, payment_date=OMIT, estimated_delivery_date=OMIT,
                       goods_description=OMIT, goods_status=OMIT, purchase_clients=OMIT)
    assert parse_refused(payload) == {(f"data.{name}", "required") for name in (
        "operation_date", "payment_date", "estimated_delivery_date", "goods_description", "goods_status",
        "purchase_clients")}


@pytest.mark.parametrize(("fields", "expected"), [
    pytest.param({"purchase_clients": []}, ("data.purchase_clients", "too-short"), id="empty"),
    pytest.param({"purchase_clients": None}, ("data.purchase_clients", "required"), id="null"),
    pytest.param({"purchase_clients": [{"client_id": "C1"}, {"client_id": "C1"}]},
                 ("data.purchase_clients", "duplicate"), id="duplicate"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "share": D("0.6")}, {"client_id": "C2", "share": D("0.5")}]},
                 ("data.purchase_clients", "share-sum"), id="sum-above-1"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "share": D("0.5")},
                                       {"client_id": "C2", "share": D("0.5000000000000000000000000000001")}]},
                 ("data.purchase_clients", "share-sum"), id="sum-above-1-beyond-28-digits"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "share": 0}]},
                 ("data.purchase_clients[0].share", "out-of-range"), id="share-0"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "share": D("1.01")}]},
                 ("data.purchase_clients[0].share", "out-of-range"), id="share-above-1"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "share": D("-0.5")}]},
                 ("data.purchase_clients[0].share", "out-of-range"), id="share-negative"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "share": D("NaN")}]},
                 ("data.purchase_clients[0].share", "out-of-range"), id="share-nan"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "share": "0.5"}]},
                 ("data.purchase_clients[0].share", "invalid-type"), id="share-string"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "share": True}]},
                 ("data.purchase_clients[0].share", "invalid-type"), id="share-bool"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "share": D("0." + "3" * 40)}]},
                 ("data.purchase_clients[0].share", "invalid-value"), id="share-40-digits"),
    pytest.param({"purchase_clients": [{"share": D("0.5")}]},
                 ("data.purchase_clients[0].client_id", "required"), id="member-without-id"),
    pytest.param({"purchase_clients": [{"client_id": "C1", "role": "buyer"}]},
                 ("data.purchase_clients[0].role", "unknown-field"), id="member-unknown-field"),
    pytest.param({"purchase_clients": [{"client_id": "C#1"}]},
                 ("data.purchase_clients[0].client_id", "invalid-id"), id="member-id-injection"),
    pytest.param({"purchase_clients": ["C1"]}, ("data.purchase_clients[0]", "invalid-type"), id="member-string"),
    pytest.param({"purchase_clients": [{"client_id": f"C{i}"} for i in range(16)]},
                 ("data.purchase_clients", "too-long"), id="16-members"),
    pytest.param({"client_ids": ["C1"]}, ("data.client_ids", "not-allowed"), id="legacy-client-ids"),
    pytest.param({"client_id": "C3"}, ("data.client_id", "not-allowed"), id="client-id-not-a-member"),
    pytest.param({"estimated_delivery_date": "2024-10-20"}, ("data.estimated_delivery_date", "date-order"),
                 id="delivery-same-day"),
    pytest.param({"estimated_delivery_date": "2024-10-01"}, ("data.estimated_delivery_date", "date-order"),
                 id="delivery-before"),
    pytest.param({"maturity_date": "2025-01-01"}, ("data.maturity_date", "not-allowed"), id="purchase-maturity"),
    pytest.param({"goods_status": "lost"}, ("data.goods_status", "invalid-value"), id="goods-status"),
    pytest.param({"goods_description": "g" * 1001}, ("data.goods_description", "too-long"), id="goods-1001"),
])
def test_given_a_purchase_breaking_one_rule_when_parsed_then_that_field_and_code_are_reported(fields, expected):
    assert parse_refused(purchase(**fields)) == {expected}


def test_given_the_legacy_client_ids_message_when_refused_then_it_says_what_to_send():
    error = refused(DISBURSEMENT.parse, purchase(client_ids=["C1"]))
    assert "purchase_clients" in error.violations[0].message


@pytest.mark.parametrize("members", [
    [{"client_id": "C1", "share": D("0.25")}, {"client_id": "C2", "share": D("0.75")}],
    [{"client_id": "C1", "share": 1}],
    [{"client_id": "C1"}, {"client_id": "C2"}],
    [{"client_id": "C1", "share": D("0.5" + "0" * 40)}],  # a share written with trailing zeros is still 0.5
])
def test_given_shares_summing_to_at_most_1_or_absent_when_created_then_accepted(world, members):
    world.send(DISBURSEMENT, purchase(purchase_clients=members))
    assert [pc["client_id"] for pc in world.record("disbursements", "P1")["purchase_clients"]] == \
        [m["client_id"] for m in members]


def test_given_a_purchase_and_a_loan_both_broken_when_parsed_then_all_violations_are_listed():
    payload = purchase(purchase_clients=[{"client_id": "C1", "share": 2}, {"client_id": "C1"}],
                       client_ids=["C1"], estimated_delivery_date="2024-01-01", goods_status="lost",
                       disbursement_amount=0)
    assert parse_refused(payload) == {
        ("data.purchase_clients[0].share", "out-of-range"), ("data.client_ids", "not-allowed"),
        ("data.estimated_delivery_date", "date-order"), ("data.goods_status", "invalid-value"),
        ("data.disbursement_amount", "out-of-range"),
    }


# references ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("payload", "field"), [
    pytest.param(loan(client_id="C404"), "data.client_id", id="loan-client-id"),
    pytest.param(loan(client_ids=["C1", "C404"]), "data.client_ids[1]", id="loan-client-ids"),
    pytest.param(loan(client_id="C9"), "data.client_id", id="deleted-client"),
    pytest.param(purchase(purchase_clients=[{"client_id": "C1"}, {"client_id": "C404"}]),
                 "data.purchase_clients[1].client_id", id="purchase-client"),
])
def test_given_a_client_that_does_not_exist_or_is_deleted_when_linked_then_unknown_reference(world, payload, field):
    error = refused(world.send, DISBURSEMENT, payload)
    assert error.problem == "unknown-reference"
    assert pairs(error) == {(field, "unknown-reference")}
    assert ("disbursements", payload["disbursement_id"]) not in world.items


def test_given_a_client_with_another_currency_when_linked_then_currency_mismatch(world):
    error = refused(world.send, DISBURSEMENT, loan(client_id="C3"))
    assert error.problem == "validation-error"
    assert pairs(error) == {("data.currency", "currency-mismatch")}
    assert "USD" in error.violations[0].message


def test_given_clients_without_a_currency_when_linked_then_any_currency_is_accepted(world):
    world.send(DISBURSEMENT, loan(currency="BRL", client_id="C2", client_ids=["C4"]))
    assert world.record("disbursements", "D1")["currency"] == "BRL"


def test_given_an_unknown_client_and_a_currency_mismatch_when_decided_then_both_are_listed(world):
    error = refused(world.send, DISBURSEMENT, loan(client_id="C3", client_ids=["C404"]))
    assert error.problem == "validation-error"
    assert pairs(error) == {("data.currency", "currency-mismatch"), ("data.client_ids[0]", "unknown-reference")}


# steps ----------------------------------------------------------------------------------------


def test_given_no_step_when_parsed_then_step_is_required_for_disbursements():
    assert parse_refused(loan(step=OMIT)) == {("data.step", "required")}


def test_given_a_create_of_an_existing_disbursement_when_decided_then_conflict(world):
    world.send(DISBURSEMENT, loan())
    error = refused(world.send, DISBURSEMENT, loan())
    assert error.problem == "conflict"
    assert pairs(error) == {("data.disbursement_id", "conflict")}


@pytest.mark.parametrize("payload", [loan("D404", step="update", bank_ref="x"), loan("D404", step="delete")],
                         ids=["update", "delete"])
def test_given_an_update_or_delete_of_an_unknown_disbursement_when_decided_then_unknown_reference(world, payload):
    error = refused(world.send, DISBURSEMENT, payload)
    assert error.problem == "unknown-reference"
    assert pairs(error) == {("data.disbursement_id", "unknown-reference")}


def test_given_an_update_when_decided_then_the_record_is_the_merge_and_only_changes_are_listed(world):
    world.send(DISBURSEMENT, loan(bank_ref="B-1"))
    decision = world.send(DISBURSEMENT, loan(step="update", pledge_creditor="Bank AG", info={"a": 1}))
    assert decision.version == 2
    assert decision.writes[0].changes == ["info", "pledge_creditor"]
    record = world.record("disbursements", "D1")
    assert (record["bank_ref"], record["pledge_creditor"], record["maturity_date"]) == ("B-1", "Bank AG", "2025-10-20")


def test_given_an_update_that_changes_nothing_when_decided_then_unchanged(world):
    world.send(DISBURSEMENT, loan())
    decision = world.send(DISBURSEMENT, loan(step="update", kind="loan", currency="EUR", client_id="C1",
                                             gross_value=D("10000.00"), upfront_fee=0))
    assert (decision.outcome, decision.version, decision.writes) == ("Unchanged", 1, [])


@pytest.mark.parametrize(("fields", "field"), [({"kind": "purchase"}, "kind"), ({"currency": "USD"}, "currency"),
                                               ({"kind": None}, "kind"), ({"currency": None}, "currency")])
def test_given_an_update_of_kind_or_currency_when_decided_then_immutable(world, fields, field):
    world.send(DISBURSEMENT, loan())
    error = refused(world.send, DISBURSEMENT, loan(step="update", **fields))
    assert (f"data.{field}", "immutable") in pairs(error)


@pytest.mark.parametrize("field", ["disbursement_amount", "total_expected_margin", "maturity_date",
                                   "disbursement_date"])
def test_given_an_update_that_nulls_a_required_field_when_decided_then_not_allowed(world, field):
    world.send(DISBURSEMENT, loan())
    assert pairs(refused(world.send, DISBURSEMENT, loan(step="update", **{field: None}))) == \
        {(f"data.{field}", "not-allowed")}


def test_given_an_update_that_nulls_optional_fields_when_decided_then_they_are_cleared_or_defaulted(world):
    world.send(DISBURSEMENT, loan(bank_ref="B-1", upfront_fee=D("100"), gross_value=D("12000")))
    world.send(DISBURSEMENT, loan(step="update", bank_ref=None, upfront_fee=None, gross_value=None))
    record = world.record("disbursements", "D1")
    assert "bank_ref" not in record
    assert (record["upfront_fee"], record["gross_value"]) == (D(0), D("10000"))


def test_given_an_update_that_moves_dates_out_of_order_when_decided_then_date_order_on_the_merge(world):
    world.send(DISBURSEMENT, loan())
    error = refused(world.send, DISBURSEMENT, loan(step="update", disbursement_date="2026-01-01"))
    assert pairs(error) == {("data.maturity_date", "date-order")}


def test_given_an_update_adding_purchase_fields_to_a_loan_when_decided_then_not_allowed(world):
    world.send(DISBURSEMENT, loan())
    error = refused(world.send, DISBURSEMENT, loan(step="update", goods_status="delivered"))
    assert pairs(error) == {("data.goods_status", "not-allowed")}


# change_date / change_reason ----------------------------------------------------------------


@pytest.mark.parametrize(("fields", "why"), [
    pytest.param({"maturity_date": "2026-04-20"}, "moves maturity_date", id="extension"),
    pytest.param({"maturity_date": "2025-06-20"}, "moves maturity_date", id="earlier-maturity"),
    pytest.param({"total_expected_margin": D("1000")}, "lowers total_expected_margin", id="rebate"),
    pytest.param({"disbursement_amount": D("4000")}, "lowers disbursement_amount", id="write-off"),
])
def test_given_an_update_that_needs_a_reason_without_one_when_decided_then_both_are_required(world, fields, why):
    world.send(DISBURSEMENT, loan())
    error = refused(world.send, DISBURSEMENT, loan(step="update", **fields))
    assert pairs(error) == {("data.change_date", "required"), ("data.change_reason", "required")}
    assert all(why in v.message for v in error.violations)


def test_given_an_update_with_only_a_change_date_when_a_reason_is_needed_then_the_reason_is_required(world):
    world.send(DISBURSEMENT, loan())
    error = refused(world.send, DISBURSEMENT, loan(step="update", disbursement_amount=D(1), change_date="2025-01-01"))
    assert pairs(error) == {("data.change_reason", "required")}


@pytest.mark.parametrize("fields", [{"disbursement_amount": D("20000")}, {"total_expected_margin": D("2000")},
                                    {"bank_ref": "B-2"}, {"maturity_date": "2025-10-20"}])
def test_given_an_update_that_raises_or_keeps_values_when_decided_then_no_reason_is_needed(world, fields):
    world.send(DISBURSEMENT, loan())
    decision = world.send(DISBURSEMENT, loan(step="update", **fields))
    assert decision.outcome in ("Success", "Unchanged")
    assert fields.items() <= world.record("disbursements", "D1").items()


def test_given_a_full_write_off_with_a_reason_when_decided_then_amount_0_and_the_change_is_kept_apart(world):
    world.send(DISBURSEMENT, loan())
    decision = world.send(DISBURSEMENT, loan(step="update", disbursement_amount=0, change_date="2025-03-01",
                                             change_reason="insolvency"))
    record = world.record("disbursements", "D1")
    assert record["disbursement_amount"] == 0
    assert "change_date" not in record and "change_reason" not in record
    assert decision.writes[0].change == {"change_date": "2025-03-01", "change_reason": "insolvency"}


def test_given_an_update_to_a_negative_amount_when_parsed_then_out_of_range():
    assert parse_refused(loan(step="update", disbursement_amount=D("-1"))) == \
        {("data.disbursement_amount", "out-of-range")}


# gross_value ----------------------------------------------------------------------------------


def test_given_a_derived_gross_value_when_amount_or_fee_change_then_it_follows_until_set_explicitly(world):
    world.send(DISBURSEMENT, loan(upfront_fee=D("100")))
    assert world.record("disbursements", "D1")["gross_value"] == D("10100")
    # the amount is lowered: the derived gross value follows
    world.send(DISBURSEMENT, loan(step="update", disbursement_amount=D("8000"), change_date="2025-01-01",
                                  change_reason="partial write-off"))
    assert world.record("disbursements", "D1")["gross_value"] == D("8100")
    # the fee changes: it follows again
    world.send(DISBURSEMENT, loan(step="update", upfront_fee=D("200")))
    assert world.record("disbursements", "D1")["gross_value"] == D("8200")
    # an explicit, different value is kept ...
    world.send(DISBURSEMENT, loan(step="update", gross_value=D("9000")))
    assert world.record("disbursements", "D1")["gross_value"] == D("9000")
    # ... and no longer follows the amount
    world.send(DISBURSEMENT, loan(step="update", disbursement_amount=D("7000"), change_date="2025-02-01",
                                  change_reason="more"))
    assert world.record("disbursements", "D1")["gross_value"] == D("9000")


# relinking clients --------------------------------------------------------------------------


def test_given_a_loan_moved_to_another_client_when_updated_then_counters_move_with_it(world):
    world.send(DISBURSEMENT, loan())
    decision = world.send(DISBURSEMENT, loan(step="update", client_id="C2"))
    assert decision.client_links == {"C2": 1, "C1": -1}
    assert (world.links["C1"], world.links["C2"]) == (0, 1)


def test_given_a_new_client_with_another_currency_when_linked_by_update_then_currency_mismatch(world):
    world.send(DISBURSEMENT, loan())
    assert pairs(refused(world.send, DISBURSEMENT, loan(step="update", client_ids=["C3"]))) == \
        {("data.currency", "currency-mismatch")}


def test_given_a_purchase_whose_primary_leaves_when_updated_then_a_remaining_member_becomes_primary(world):
    world.send(DISBURSEMENT, purchase())
    decision = world.send(DISBURSEMENT, purchase(step="update", purchase_clients=[{"client_id": "C2"},
                                                                                   {"client_id": "C4"}]))
    assert world.record("disbursements", "P1")["client_id"] == "C2"
    assert decision.client_links == {"C4": 1, "C1": -1}
    rows = {w.id: w.record["deleted"] for w in decision.writes if w.table == "purchase_clients"}
    assert rows == {"P1~C1": True, "P1~C4": False}  # C2's row is unchanged and not rewritten


# delete ---------------------------------------------------------------------------------------


def test_given_a_delete_when_decided_then_soft_delete_that_unlinks_clients_and_purchase_rows(world):
    world.send(DISBURSEMENT, purchase())
    before = world.record("disbursements", "P1")
    decision = world.send(DISBURSEMENT, purchase(step="delete"))
    assert world.record("disbursements", "P1") == {**before, "deleted": True}
    assert decision.writes[0].changes == ["deleted"]
    assert decision.client_links == {"C1": -1, "C2": -1}
    assert {w.id: w.record["deleted"] for w in decision.writes[1:]} == {"P1~C1": True, "P1~C2": True}


def test_given_a_delete_carrying_more_than_the_id_when_parsed_then_not_allowed():
    assert parse_refused(loan(step="delete", bank_ref="x", disbursement_amount=0)) == {
        ("data.bank_ref", "not-allowed"), ("data.disbursement_amount", "not-allowed")}


@pytest.mark.parametrize("payload", [loan(step="update", bank_ref="x"), loan(step="delete")],
                         ids=["update", "delete"])
def test_given_a_deleted_disbursement_when_changed_again_then_conflict(world, payload):
    world.send(DISBURSEMENT, loan())
    world.send(DISBURSEMENT, loan(step="delete"))
    error = refused(world.send, DISBURSEMENT, payload)
    assert error.problem == "conflict"
    assert pairs(error) == {("data.disbursement_id", "conflict")}


@pytest.mark.parametrize("fields", [{"client_id": None}, {"client_id": None, "client_ids": []}])
def test_given_a_loan_update_that_removes_its_last_client_when_decided_then_not_allowed(world, fields):
    world.send(DISBURSEMENT, loan())
    assert pairs(refused(world.send, DISBURSEMENT, loan(step="update", **fields))) == \
        {("data.client_id", "not-allowed")}


def test_given_a_loan_update_that_removes_client_id_but_keeps_client_ids_then_the_next_is_primary(world):
    world.send(DISBURSEMENT, loan(client_ids=["C2", "C4"]))
    decision = world.send(DISBURSEMENT, loan(step="update", client_id=None))
    assert world.record("disbursements", "D1")["client_id"] == "C2"
    assert decision.client_links == {"C1": -1}
