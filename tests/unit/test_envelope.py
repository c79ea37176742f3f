"""The ingest envelope {"category", "data", "effective_at"} (docs/contract.md: sending events, unknown fields)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerline.domain.envelope import CATEGORIES, RETIRED, parse_event
from ledgerline.domain.errors import DomainError
from tests import builders


def refused(body) -> DomainError:
    with pytest.raises(DomainError) as caught:
        parse_event(body)
    return caught.value


def pairs(error: DomainError) -> set[tuple[str, str]]:
    return {(v.field, v.code) for v in error.violations}


# retired categories -------------------------------------------------------------------------

# What the hint must point to, per retired category.
MIGRATIONS = {
    "loan": ['"disbursement"', '"kind": "loan"'],
    "purchase": ['"disbursement"', '"kind": "purchase"', "purchase_clients"],
    "schedule": ['"payment"', '"status": "expected"', "installment_number"],
    "insurance": ['"payment"', '"source": "insurance"'],
    "write_off": ['"disbursement" update', "lowers disbursement_amount", "change_date", "change_reason"],
    "credit_decision": ["info"],
    "asset": ['"operation"', "asset_id", "asset_status"],
    "goods_status": ['"disbursement" update', "goods_status"],
    "restructure": ['"disbursement" update', "maturity_date", '"payment"'],
}


def test_the_nine_retired_categories_are_exactly_the_contracts():
    assert set(RETIRED) == set(MIGRATIONS)
    assert not set(RETIRED) & set(CATEGORIES)


@pytest.mark.parametrize("category", sorted(MIGRATIONS))
def test_given_a_retired_category_when_parsed_then_deprecated_category_with_a_migration_hint(category):
    # Given an event of a retired category, even with a payload that would be valid elsewhere
    body = {"category": category, "data": {"loan_id": "L1", "amount": 10}}
    # When it is parsed
    error = refused(body)
    # Then it is refused as deprecated (422), and the detail tells the partner what to send
    assert error.problem == "deprecated-category"
    assert f'"{category}" is retired' in error.detail
    for hint in MIGRATIONS[category]:
        assert hint in error.detail
    assert pairs(error) == {("category", "deprecated-category")}


def test_given_a_retired_category_without_data_when_parsed_then_still_deprecated_not_validation():
    assert refused({"category": "schedule"}).problem == "deprecated-category"


# unknown / malformed envelope ------------------------------------------------------------------


@pytest.mark.parametrize("category", ["Client", "clients", "loans", "", "payments", "debt"])
def test_given_an_unknown_category_when_parsed_then_validation_error_on_category(category):
    error = refused({"category": category, "data": {}})
    assert error.problem == "validation-error"
    assert pairs(error) == {("category", "invalid-value")}


@pytest.mark.parametrize("category", [None, 5, ["client"], {"name": "client"}, True])
def test_given_a_category_that_is_not_a_string_when_parsed_then_invalid_type(category):
    error = refused({"category": category, "data": {}})
    assert pairs(error) == {("category", "invalid-type")}


def test_given_no_category_and_no_data_when_parsed_then_both_are_required():
    error = refused({})
    assert error.problem == "validation-error"
    assert pairs(error) == {("category", "required"), ("data", "required")}


@pytest.mark.parametrize("data", [None, [], ["C1"], "C1", 5, True])
def test_given_data_that_is_not_an_object_when_parsed_then_invalid_type(data):
    error = refused({"category": "client", "data": data})
    assert pairs(error) == {("data", "invalid-type")}


def test_given_unknown_envelope_fields_when_parsed_then_each_is_an_unknown_field():
    body = {**builders.client(), "tenant": "t2", "version": 3}
    error = refused(body)
    assert pairs(error) == {("tenant", "unknown-field"), ("version", "unknown-field")}


# every violation listed -----------------------------------------------------------------------


def test_given_an_event_with_many_broken_fields_when_parsed_then_every_violation_is_listed_at_once():
    # Given an envelope and a payload that break seven rules in different places
    body = {
        "category": "disbursement",
        "effective_at": "2024-02-30",
        "source_system": "crm",
        "data": {
            "disbursement_id": "D#1", "step": "create", "kind": "loan", "disbursement_amount": Decimal("NaN"),
            "currency": "eur", "total_expected_margin": -1, "client_id": "C1",
            "disbursement_date": "2024-10-20", "maturity_date": "2023-02-29", "colour": "red",
        },
    }
    # When it is parsed
    error = refused(body)
    # Then one validation error names each of them, with its field path and code
    assert error.problem == "validation-error"
    assert pairs(error) == {
        ("source_system", "unknown-field"),
        ("effective_at", "invalid-date"),
        ("data.disbursement_id", "invalid-id"),
        ("data.disbursement_amount", "invalid-money"),
        ("data.currency", "invalid-currency"),
        ("data.total_expected_margin", "out-of-range"),
        ("data.maturity_date", "invalid-date"),
        ("data.colour", "unknown-field"),
    }
    assert "8 rules" in error.detail
    assert all(v.message for v in error.violations)


def test_given_malformed_fields_and_missing_required_ones_when_parsed_then_both_kinds_are_listed():
    data = {"client_id": "C1", "step": "create", "email": "not-an-email"}
    error = refused({"category": "client", "data": data})
    assert pairs(error) == {("data.email", "invalid-email"), ("data.name", "required"),
                            ("data.client_type", "required")}


def test_given_a_malformed_required_field_when_parsed_then_it_is_reported_once_as_malformed():
    data = {**builders.client()["data"], "name": 42}
    assert pairs(refused({"category": "client", "data": data})) == {("data.name", "invalid-type")}


# deprecated fields -----------------------------------------------------------------------------


def test_given_deprecated_entity_fields_when_parsed_then_accepted_ignored_and_warned():
    body = builders.client()
    body["entity_type"] = "client"
    body["data"] = {**body["data"], "entity_id": "C1", "entity_type": "client"}
    # When parsed
    event = parse_event(body)
    # Then the event is accepted, the fields are not part of the record, and each is a warning
    assert "entity_id" not in event.parsed.fields and "entity_type" not in event.parsed.fields
    assert {(w["field"], w["code"]) for w in event.parsed.warnings} == {
        ("entity_type", "deprecated-field"),
        ("data.entity_id", "deprecated-field"),
        ("data.entity_type", "deprecated-field"),
    }


def test_given_deprecated_fields_next_to_a_real_error_when_parsed_then_only_the_error_fails_the_event():
    body = {**builders.client(name=""), "entity_id": "C1"}
    assert pairs(refused(body)) == {("data.name", "too-short")}


# effective_at ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("given_text", "expected"), [
    ("2024-10-20", "2024-10-20"),
    ("2024-10-20T12:34:56Z", "2024-10-20T12:34:56Z"),
    ("2024-10-20T12:34:56-03:00", "2024-10-20T15:34:56Z"),
])
def test_given_effective_at_when_parsed_then_it_is_normalised(given_text, expected):
    event = parse_event({**builders.client(), "effective_at": given_text})
    assert event.effective_at == expected
    assert event.parsed.warnings == []


def test_given_effective_at_without_offset_when_parsed_then_read_as_utc_with_a_warning():
    event = parse_event({**builders.client(), "effective_at": "2024-10-20T12:34:56"})
    assert event.effective_at == "2024-10-20T12:34:56Z"
    assert [(w["field"], w["code"]) for w in event.parsed.warnings] == [("effective_at", "timezone-assumed")]


@pytest.mark.parametrize("value", ["2023-02-29", "yesterday", "2024/10/20", 20241020, ["2024-10-20"], True])
def test_given_a_bad_effective_at_when_parsed_then_invalid_date(value):
    error = refused({**builders.client(), "effective_at": value})
    assert pairs(error) == {("effective_at", "invalid-date")}


def test_given_no_effective_at_when_the_payload_has_a_change_date_then_it_defaults_to_the_change_date():
    body = builders.loan(step="update", maturity_date="2026-01-31", change_date="2025-06-01T09:00:00+02:00",
                         change_reason="extension")
    event = parse_event(body)
    assert event.effective_at == "2025-06-01T07:00:00Z"
    assert event.parsed.change == {"change_date": "2025-06-01T07:00:00Z", "change_reason": "extension"}


def test_given_effective_at_and_a_change_date_when_parsed_then_effective_at_wins():
    body = {**builders.loan(step="update", change_date="2025-06-01", change_reason="x"),
            "effective_at": "2025-05-01"}
    assert parse_event(body).effective_at == "2025-05-01"


def test_given_neither_effective_at_nor_change_date_when_parsed_then_none_means_time_of_ingest():
    assert parse_event(builders.client()).effective_at is None
    assert parse_event({**builders.client(), "effective_at": None}).effective_at is None


# the four categories ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", [builders.client(), builders.loan(), builders.purchase(), builders.payment(),
                                  builders.operation()],
                         ids=["client", "loan", "purchase", "payment", "operation"])
def test_given_a_valid_event_of_each_category_when_parsed_then_routed_to_its_category(body):
    event = parse_event(body)
    assert event.category.name == body["category"]
    assert event.parsed.record_id == body["data"][event.category.id_field]


def test_given_a_timestamp_without_offset_in_data_when_parsed_then_the_warning_names_the_data_field():
    event = parse_event(builders.payment(payment_date="2024-11-20T10:00:00"))
    assert event.parsed.fields["payment_date"] == "2024-11-20T10:00:00Z"
    assert [(w["field"], w["code"]) for w in event.parsed.warnings] == [("data.payment_date", "timezone-assumed")]


# strings: no U+0000, no empty member names in info -----------------------------------------------


@pytest.mark.parametrize(("info", "field"), [
    ({"": 1}, 'data.info.""'),
    ({"x": {"": "y"}}, 'data.info.x.""'),
    ({"a": [{"": True}]}, 'data.info.a[0].""'),
    ({"a": [1, [{"b": {"": None}}]]}, 'data.info.a[1][0].b.""'),
])
def test_an_empty_member_name_anywhere_in_info_is_refused_naming_its_path(info, field):
    error = refused(builders.client(info=info))
    assert error.problem == "validation-error"
    assert pairs(error) == {(field, "empty-member-name")}


@pytest.mark.parametrize(("body", "field"), [
    (builders.client(client_id="C\x001"), "data.client_id"),
    (builders.client(name="Ada\x00"), "data.name"),
    (builders.client(info={"note": "a\x00b"}), "data.info.note"),
    (builders.client(info={"k\x00": 1}), "data.info.k\\u0000"),
    (builders.client(info={"list": ["ok", {"deep": "\x00"}]}), "data.info.list[1].deep"),
    ({**builders.client(), "effective_at": "2024-01-01\x00"}, "effective_at"),
    ({**builders.client(), "category": "client\x00"}, "category"),
    ({**builders.client(), "extra\x00": 1}, "extra\\u0000"),
])
def test_u0000_in_any_string_or_name_is_refused_as_invalid_characters(body, field):
    error = refused(body)
    assert error.problem == "validation-error"
    assert (field, "invalid-characters") in pairs(error)
    # reported once, for what it is: not also as a malformed id, date or category
    assert [v.code for v in error.violations if v.field == field] == ["invalid-characters"]


def test_every_unusable_string_is_listed_with_the_other_violations():
    error = refused(builders.client(name="\x00", info={"": "\x00"}, currency="XXX1"))
    assert pairs(error) >= {("data.name", "invalid-characters"), ('data.info.""', "empty-member-name"),
                            ('data.info.""', "invalid-characters"), ("data.currency", "invalid-currency")}


def test_empty_member_names_outside_info_are_unknown_fields_not_stored():
    assert ("data.", "unknown-field") in pairs(refused(builders.client(**{"": 1})))
