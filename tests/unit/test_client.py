"""Category `client` (docs/ingest.md: steps, client) through `parse` and `decide`, no storage."""

from __future__ import annotations

from typing import Any

import pytest

from ledgerline.domain.category import RECORD_META, Decision
from ledgerline.domain.client import CLIENT
from tests.unit.world import pairs, refused


def data(client_id: str = "C1", step: str = "create", **fields: Any) -> dict[str, Any]:
    base = {"client_id": client_id, "step": step}
    if step == "create":
        base |= {"name": "Ada Lovelace", "client_type": "individual"}
    return base | fields




def partner_view(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the bookkeeping the store stamps on it (version, created_at, updated_at)."""
    return {k: v for k, v in record.items() if k not in RECORD_META}


def stored(decision: Decision) -> dict[str, Any]:
    """The current record as the store keeps it after `decision`."""
    write = decision.writes[0]
    return {**write.record, "version": write.previous_version + 1}


def send(payload: dict[str, Any], current: dict[str, Any] | None = None, links: int = 0) -> Decision:
    parsed = CLIENT.parse(payload)
    return CLIENT.decide(parsed, current, {}, links)


@pytest.fixture
def ada() -> dict[str, Any]:
    """Client C1 as stored after a create."""
    return stored(send(data(email="ada@example.com", country="GB", currency="EUR", info={"segment": "retail"})))


# create -------------------------------------------------------------------------------------


def test_given_a_valid_client_when_created_then_the_record_is_the_payload_plus_deleted_false():
    decision = send(data(country="DE", birth_date="1815-12-10", phone="+44 20 0000 0000", tax_id="DE123"))
    assert decision.outcome == "Success" and decision.version == 1
    (write,) = decision.writes
    assert (write.table, write.id, write.previous_version) == ("clients", "C1", 0)
    assert write.record == {"client_id": "C1", "name": "Ada Lovelace", "client_type": "individual",
                            "country": "DE", "birth_date": "1815-12-10", "phone": "+44 20 0000 0000",
                            "tax_id": "DE123", "deleted": False}


def test_given_a_create_without_name_and_client_type_when_parsed_then_both_are_required():
    error = refused(CLIENT.parse, {"client_id": "C1", "step": "create"})
    assert error.problem == "validation-error"
    assert pairs(error) == {("data.name", "required"), ("data.client_type", "required")}


def test_given_a_create_with_null_required_fields_when_parsed_then_required():
    error = refused(CLIENT.parse, data(name=None, client_type=None))
    assert pairs(error) == {("data.name", "required"), ("data.client_type", "required")}


@pytest.mark.parametrize("payload", [
    pytest.param({"step": "create", "name": "A", "client_type": "company"}, id="missing"),
    pytest.param({"client_id": None, "step": "create", "name": "A", "client_type": "company"}, id="null"),
])
def test_given_no_client_id_when_parsed_then_required(payload):
    assert pairs(refused(CLIENT.parse, payload)) == {("data.client_id", "required")}


@pytest.mark.parametrize("payload", [
    pytest.param({"client_id": "C1", "name": "A", "client_type": "company"}, id="missing"),
    pytest.param({"client_id": "C1", "step": None, "name": "A", "client_type": "company"}, id="null"),
])
def test_given_no_step_when_parsed_then_step_is_required_for_clients(payload):
    assert pairs(refused(CLIENT.parse, payload)) == {("data.step", "required")}


@pytest.mark.parametrize("step", ["upsert", "CREATE", "", 1, ["create"]])
def test_given_an_unknown_step_when_parsed_then_invalid_value(step):
    assert pairs(refused(CLIENT.parse, data(step=step))) == {("data.step", "invalid-value")}


@pytest.mark.parametrize("client_id", ["a#b", "../x", "-lead", "A" * 129, "C 1", "T#t2#clients#C1", ""])
def test_given_a_client_id_that_could_inject_a_key_when_parsed_then_invalid_id(client_id):
    assert pairs(refused(CLIENT.parse, data(client_id))) == {("data.client_id", "invalid-id")}


def test_given_a_client_id_of_128_chars_when_created_then_accepted():
    assert send(data("C" * 128)).writes[0].id == "C" * 128


@pytest.mark.parametrize(("field", "value", "code"), [
    ("name", "x" * 201, "too-long"),
    ("name", "", "too-short"),
    ("name", "   ", "too-short"),
    ("name", ["Ada"], "invalid-type"),
    ("client_type", "person", "invalid-value"),
    ("client_type", "Company", "invalid-value"),
    ("currency", "eur", "invalid-currency"),
    ("currency", "EURO", "invalid-currency"),
    ("country", "GER", "invalid-country"),
    ("country", "xx", "invalid-country"),
    ("tax_id", "x" * 1001, "too-long"),
    ("phone", "1" * 1001, "too-long"),
    ("phone", 4420000000, "invalid-type"),
    ("email", "ada-at-example.com", "invalid-email"),
    ("email", "ada@", "invalid-email"),
    ("birth_date", "2023-02-29", "invalid-date"),
    ("birth_date", "10/12/1815", "invalid-date"),
    ("incorporation_date", "2024-13-01", "invalid-date"),
    ("incorporation_date", 20240101, "invalid-type"),
    ("info", ["retail"], "invalid-type"),
    ("info", "retail", "invalid-type"),
    ("info", {"a": {"b": {"c": {"d": {"e": {}}}}}}, "too-deep"),
    ("info", {"blob": "x" * 16_400}, "too-large"),
    ("segment", "retail", "unknown-field"),
    ("clientId", "C1", "unknown-field"),
    ("deleted", True, "unknown-field"),
    ("version", 3, "unknown-field"),
])
def test_given_one_broken_field_when_parsed_then_exactly_that_field_and_code_are_reported(field, value, code):
    error = refused(CLIENT.parse, data(**{field: value}))
    assert error.problem == "validation-error"
    assert pairs(error) == {(f"data.{field}", code)}


@pytest.mark.parametrize(("field", "length"), [("name", 200), ("tax_id", 1000), ("phone", 1000)])
def test_given_strings_at_their_limit_when_created_then_accepted(field, length):
    assert send(data(**{field: "x" * length})).writes[0].record[field] == "x" * length


def test_given_several_broken_fields_when_parsed_then_all_are_listed_in_one_error():
    error = refused(CLIENT.parse, {"client_id": "C1", "step": "create", "client_type": "robot",
                                   "email": "nope", "currency": "XYZ", "country": "Narnia",
                                   "birth_date": "1815-02-30", "nickname": "Ada", "info": []})
    assert pairs(error) == {
        ("data.name", "required"), ("data.client_type", "invalid-value"), ("data.email", "invalid-email"),
        ("data.currency", "invalid-currency"), ("data.country", "invalid-country"),
        ("data.birth_date", "invalid-date"), ("data.nickname", "unknown-field"), ("data.info", "invalid-type"),
    }


def test_given_dates_with_offsets_when_created_then_stored_normalised_to_utc():
    record = send(data(incorporation_date="2001-05-04T23:30:00-01:00", birth_date="1980-01-02")).writes[0].record
    assert record["incorporation_date"] == "2001-05-05T00:30:00Z"
    assert record["birth_date"] == "1980-01-02"


def test_given_a_timestamp_without_offset_when_parsed_then_utc_is_assumed_with_a_warning():
    parsed = CLIENT.parse(data(incorporation_date="2001-05-04T10:00:00"))
    assert parsed.fields["incorporation_date"] == "2001-05-04T10:00:00Z"
    assert [(w["field"], w["code"]) for w in parsed.warnings] == [("data.incorporation_date", "timezone-assumed")]


def test_given_a_create_of_an_existing_client_when_decided_then_conflict(ada):
    error = refused(send, data(), ada)
    assert error.problem == "conflict"
    assert pairs(error) == {("data.client_id", "conflict")}


def test_given_a_create_of_a_deleted_client_id_when_decided_then_conflict(ada):
    deleted = stored(send(data(step="delete"), ada))
    assert refused(send, data(), deleted).problem == "conflict"


# update ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["update", "delete"])
def test_given_an_update_or_delete_of_an_unknown_client_when_decided_then_unknown_reference(step):
    error = refused(send, data("C404", step=step, **({"name": "x"} if step == "update" else {})))
    assert error.problem == "unknown-reference"
    assert pairs(error) == {("data.client_id", "unknown-reference")}


def test_given_an_update_with_some_fields_when_decided_then_the_record_is_the_merge(ada):
    decision = send(data(step="update", name="Augusta Ada King", phone="+44 1"), ada)
    assert decision.outcome == "Success" and decision.version == 2
    (write,) = decision.writes
    assert write.previous_version == 1
    assert partner_view(write.record) == {"client_id": "C1", "name": "Augusta Ada King", "client_type": "individual",
                            "email": "ada@example.com", "country": "GB", "currency": "EUR",
                            "info": {"segment": "retail"}, "phone": "+44 1", "deleted": False}
    assert write.changes == ["name", "phone"]


def test_given_an_update_carrying_only_the_id_when_decided_then_unchanged(ada):
    decision = send(data(step="update"), ada)
    assert (decision.outcome, decision.version, decision.writes) == ("Unchanged", 1, [])


def test_given_an_update_that_repeats_the_stored_values_when_decided_then_unchanged_and_no_version(ada):
    decision = send(data(step="update", name="Ada Lovelace", country="GB", info={"segment": "retail"}), ada)
    assert decision.outcome == "Unchanged"
    assert decision.version == ada["version"]
    assert decision.writes == []


def test_given_an_update_replacing_info_when_decided_then_info_is_replaced_as_a_whole(ada):
    record = send(data(step="update", info={"score": 7}), ada).writes[0].record
    assert record["info"] == {"score": 7}


def test_given_an_explicit_null_on_an_optional_field_when_updated_then_the_field_is_cleared(ada):
    decision = send(data(step="update", email=None, info=None), ada)
    record = decision.writes[0].record
    assert "email" not in record and "info" not in record
    assert decision.writes[0].changes == ["email", "info"]


@pytest.mark.parametrize("field", ["name", "client_type"])
def test_given_an_explicit_null_on_a_required_field_when_updated_then_not_allowed(ada, field):
    error = refused(send, data(step="update", **{field: None}), ada)
    assert pairs(error) == {(f"data.{field}", "not-allowed")}


def test_given_an_update_with_a_broken_field_when_parsed_then_the_same_field_rules_apply():
    assert pairs(refused(CLIENT.parse, data(step="update", email="x", name="y" * 201))) == {
        ("data.email", "invalid-email"), ("data.name", "too-long")}


def test_given_an_update_of_a_deleted_client_when_decided_then_conflict(ada):
    deleted = stored(send(data(step="delete"), ada))
    error = refused(send, data(step="update", name="Back"), deleted)
    assert error.problem == "conflict"
    assert "deleted" in error.detail


# delete ---------------------------------------------------------------------------------------


def test_given_a_delete_of_a_client_without_disbursements_when_decided_then_soft_delete(ada):
    decision = send(data(step="delete"), ada, links=0)
    (write,) = decision.writes
    assert partner_view(write.record) == {**partner_view(ada), "deleted": True}
    assert write.changes == ["deleted"]
    assert decision.version == 2
    assert decision.require_no_links  # the store re-checks the counter when it commits


def test_given_a_delete_that_carries_more_than_the_id_when_parsed_then_each_extra_is_not_allowed():
    error = refused(CLIENT.parse, data(step="delete", name="Ada", info={"a": 1}))
    assert pairs(error) == {("data.name", "not-allowed"), ("data.info", "not-allowed")}


def test_given_a_delete_of_a_deleted_client_when_decided_then_conflict(ada):
    deleted = stored(send(data(step="delete"), ada))
    assert refused(send, data(step="delete"), deleted).problem == "conflict"


@pytest.mark.parametrize("links", [1, 3])
def test_given_a_client_with_open_disbursements_when_deleted_then_conflict(ada, links):
    error = refused(send, data(step="delete"), ada, links=links)
    assert error.problem == "conflict"
    assert pairs(error) == {("data.client_id", "conflict")}
    assert f"{links} disbursement(s)" in error.detail


# currency binds the client's disbursements ------------------------------------------------


def test_given_a_client_with_open_disbursements_when_its_currency_changes_then_conflict(ada):
    error = refused(send, data(step="update", currency="USD"), ada, links=1)
    assert error.problem == "conflict"
    assert pairs(error) == {("data.currency", "conflict")}


def test_given_a_client_with_open_disbursements_when_its_currency_is_first_set_then_conflict():
    plain = stored(send(data()))
    assert refused(send, data(step="update", currency="EUR"), plain, links=2).problem == "conflict"


def test_given_a_client_without_disbursements_when_its_currency_changes_then_accepted_under_a_no_links_check(ada):
    decision = send(data(step="update", currency="USD"), ada, links=0)
    assert decision.writes[0].record["currency"] == "USD"
    assert decision.require_no_links


def test_given_a_client_with_open_disbursements_when_other_fields_change_then_accepted(ada):
    decision = send(data(step="update", phone="+1 555", currency="EUR"), ada, links=5)
    assert decision.outcome == "Success"
    assert not decision.require_no_links
