"""The published ingest JSON Schemas: valid 2020-12, committed copies current, and honest: what the
schema accepts the domain accepts for type and format, and what it refuses the domain refuses."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ledgerline.api.ingest_schemas import category_schema
from ledgerline.api.openapi import schema_json
from ledgerline.domain.envelope import CATEGORIES, parse_event
from ledgerline.domain.errors import DomainError
from ledgerline.domain.jsonio import dumps, loads
from ledgerline.domain.values import DATE_OR_TIMESTAMP_PATTERN, instant, parse_when
from tests import builders

COMMITTED = Path(__file__).resolve().parents[2] / "schemas" / "ingest"


def validator(category: str) -> Draft202012Validator:
    return Draft202012Validator(category_schema(category), format_checker=Draft202012Validator.FORMAT_CHECKER)


def as_json(data: dict[str, Any], *, exact: bool = True) -> Any:
    """What a partner sends: JSON, read back with exact decimals or, as most validators do, floats."""
    return loads(dumps(data)) if exact else json.loads(dumps(data))


def domain_accepts(category: str, data: dict[str, Any]) -> bool:
    try:
        parse_event({"category": category, "data": as_json(data)})
    except DomainError:
        return False
    return True


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_each_schema_is_a_valid_2020_12_schema(category):
    schema = category_schema(category)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_the_committed_schemas_match_the_code(category):
    assert (COMMITTED / f"{category}.json").read_text(encoding="utf-8") == schema_json(category), (
        f"schemas/ingest/{category}.json is stale: run `make api-docs`")


VALID = [
    builders.client(),
    builders.client(currency="EUR", country="DE", email="ada@example.com", tax_id="DE123", phone="+49 30 1",
                    birth_date="1815-12-10", info={"segment": "retail", "scores": [1, 2.5, None, {"x": True}]}),
    builders.client(step="update", name="Ada King"),
    builders.client(entity_type="client", entity_id={"legacy": ["C-1", 7]}),
    builders.client(step="update", country=None),
    builders.client(step="delete"),
    builders.loan(),
    builders.loan(client_id=None, client_ids=["C1", "C2"], upfront_fee=Decimal("10.5"),
                  gross_value=Decimal("10010.5"), maturity_date="2025-10-20T12:00:00+02:00"),
    builders.loan(step="update", maturity_date="2026-01-31", change_date="2025-01-02",
                  change_reason="extension"),
    builders.loan(step="update", disbursement_amount=Decimal("0"), change_date="2025-01-02",
                  change_reason="full write-off"),
    builders.loan(step="delete"),
    builders.purchase(),
    builders.purchase(purchase_clients=[{"client_id": "C1", "share": Decimal("0.6")}, {"client_id": "C2"}],
                      client_id="C2"),
    builders.purchase(step="update", goods_status="delivered"),
    builders.payment(),
    builders.payment(status="paid", payment_date="2024-11-20T09:30:00Z", principal_amount=Decimal("800"),
                     interest_amount=Decimal("50.25"), payment_fee=Decimal("0"), source="guarantor"),
    builders.payment(step="create"),
    {"category": "payment", "data": {"payment_id": "PM1", "step": "delete"}},
    builders.operation(),
    builders.operation(asset_id="A-1", asset_type="car", asset_status="repossessed", asset_value=Decimal("1E+3"),
                       disbursement_id="D1", description="repossession"),
    builders.operation(step="update", amount=Decimal("13")),
]


@pytest.mark.parametrize("event", VALID, ids=lambda e: f"{e['category']}-{e['data'].get('step', 'upsert')}")
@pytest.mark.parametrize("exact", [True, False], ids=["decimal", "float"])
def test_every_valid_builder_payload_validates(event, exact):
    errors = list(validator(event["category"]).iter_errors(as_json(event["data"], exact=exact)))
    assert not errors, [e.message for e in errors]
    assert domain_accepts(event["category"], event["data"])


def loan_without(*names: str) -> dict[str, Any]:
    data = builders.loan()["data"]
    return {k: v for k, v in data.items() if k not in names}


INVALID = {
    "id with a space": ("client", builders.client("C 1")["data"]),
    "id starting with a dash": ("client", builders.client("-C1")["data"]),
    "id of 129 characters": ("client", builders.client("C" * 129)["data"]),
    "missing id": ("client", {"step": "create", "name": "Ada", "client_type": "individual"}),
    "missing step": ("client", {"client_id": "C1", "name": "Ada", "client_type": "individual"}),
    "unknown step": ("client", builders.client(step="upsert")["data"]),
    "missing name on create": ("client", {"client_id": "C1", "step": "create", "client_type": "company"}),
    "null name on create": ("client", builders.client(name=None)["data"]),
    "unknown client type": ("client", builders.client(client_type="trust")["data"]),
    "name of 201 characters": ("client", builders.client(name="x" * 201)["data"]),
    "blank name": ("client", builders.client(name="   ")["data"]),
    "unknown currency": ("client", builders.client(currency="EURO")["data"]),
    "lower-case country": ("client", builders.client(country="de")["data"]),
    "not an email": ("client", builders.client(email="ada")["data"]),
    "impossible date": ("client", builders.client(birth_date="2023-02-29")["data"]),
    "date with slashes": ("client", builders.client(birth_date="2024/01/02")["data"]),
    "hour 24": ("client", builders.client(birth_date="2024-01-02T24:00:00Z")["data"]),
    "info not an object": ("client", builders.client(info=[1])["data"]),
    "info nested 6 deep": ("client", builders.client(info={"a": {"b": {"c": {"d": {"e": {}}}}}})["data"]),
    "unknown field": ("client", builders.client(nickname="Ada")["data"]),
    "a delete carrying fields": ("client", builders.client(step="delete", name="Ada")["data"]),
    "negative money": ("disbursement", builders.loan(total_expected_margin=Decimal("-1"))["data"]),
    "money above 10^12": ("disbursement", builders.loan(upfront_fee=Decimal("1000000000000.5"))["data"]),
    "money as a string": ("disbursement", builders.loan(upfront_fee="10")["data"]),
    "zero amount on create": ("disbursement", builders.loan(disbursement_amount=Decimal("0"))["data"]),
    "loan without maturity": ("disbursement", loan_without("maturity_date")),
    "loan without a client": ("disbursement", loan_without("client_id")),
    "loan with an empty client_ids": ("disbursement", {**loan_without("client_id"), "client_ids": []}),
    "loan repeating a client": ("disbursement", builders.loan(client_ids=["C1", "C1"])["data"]),
    "loan with a purchase field": ("disbursement", builders.loan(goods_status="pending")["data"]),
    "purchase with a loan field": ("disbursement", builders.purchase(maturity_date="2025-01-01")["data"]),
    "purchase without clients": ("disbursement", builders.purchase(purchase_clients=[])["data"]),
    "share above 1": ("disbursement", builders.purchase(
        purchase_clients=[{"client_id": "C1", "share": Decimal("1.5")}])["data"]),
    "unknown kind": ("disbursement", builders.loan(kind="lease")["data"]),
    "zero payment amount": ("payment", builders.payment(amount=Decimal("0"))["data"]),
    "unknown payment status": ("payment", builders.payment(status="late")["data"]),
    "payment without due_date": ("payment", {k: v for k, v in builders.payment()["data"].items() if k != "due_date"}),
    "installment 0": ("payment", builders.payment(installment_number=0)["data"]),
    "installment as text": ("payment", builders.payment(installment_number="1")["data"]),
    "unknown source": ("payment", builders.payment(source="bank")["data"]),
    "operation without type on create": ("operation", {
        **{k: v for k, v in builders.operation()["data"].items() if k != "operation_type"}, "step": "create"}),
    "asset fields without asset_id": ("operation", builders.operation(step="create", asset_status="sold")["data"]),
    "unknown asset status": ("operation", builders.operation(asset_id="A1", asset_status="lost")["data"]),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_typical_bad_payloads_are_refused_by_the_schema_and_the_domain(case):
    category, data = INVALID[case]
    assert not validator(category).is_valid(as_json(data)), case
    assert not domain_accepts(category, data), case


def test_info_member_names_must_be_non_empty_and_strings_free_of_nul():
    for data in [builders.client(info=info)["data"]
                 for info in ({"": 1}, {"a": {"": "y"}}, {"a": [{"": True}]}, {"a": "x\u0000"}, {"a\u0000": 1})] + [
            builders.client(name="Ada\u0000")["data"], builders.client(entity_type={"\u0000": 1})["data"],
            builders.client(entity_id=["x\u0000"])["data"]]:
        assert not validator("client").is_valid(data), data
        assert not domain_accepts("client", data), data


def test_the_ingest_body_refers_to_shared_definitions_once():
    schema = category_schema("disbursement")
    assert {"Id", "Date", "Money", "Currency", "Info", "PurchaseClient", "Share"} <= set(schema["$defs"])
    assert "Country" not in schema["$defs"]  # only what the category uses
    assert schema["properties"]["maturity_date"]["anyOf"][0] == {"$ref": "#/$defs/Date"}


# Dates: the pattern and the domain agree on every near-date text, valid or not.
DATE_RE = re.compile(DATE_OR_TIMESTAMP_PATTERN)


def domain_date(text: str) -> bool:
    """Whether the domain reads `text`, and can read back what it stores for it."""
    try:
        normalised, _ = parse_when(text)
    except ValueError:
        return False
    instant(normalised)
    return True


@given(year=st.integers(0, 9999), month=st.integers(0, 13), day=st.integers(0, 32))
def test_the_date_pattern_accepts_exactly_the_calendar_dates(year, month, day):
    text = f"{year:04d}-{month:02d}-{day:02d}"
    assert bool(DATE_RE.fullmatch(text)) == domain_date(text), text


@given(
    day=st.sampled_from(["2024-02-29", "2023-12-31", "2000-01-01"]),
    clock=st.tuples(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)),
    fraction=st.sampled_from(["", ".5", ".123456", ".1234567"]),
    offset=st.one_of(st.sampled_from(["", "Z", "z"]),
                     st.tuples(st.sampled_from("+-"), st.integers(0, 25), st.integers(0, 99)).map(
                         lambda o: f"{o[0]}{o[1]:02d}:{o[2]:02d}")),
)
def test_the_timestamp_pattern_accepts_exactly_the_timestamps(day, clock, fraction, offset):
    text = f"{day}T{clock[0]:02d}:{clock[1]:02d}:{clock[2]:02d}{fraction}{offset}"
    assert bool(DATE_RE.fullmatch(text)) == domain_date(text), text


@given(st.from_regex(DATE_RE, fullmatch=True))
def test_every_text_the_pattern_generates_is_a_date_the_domain_reads(text):
    # Only the ends of the calendar can leave years 1-9999 once moved to UTC.
    assert domain_date(text) or text.startswith(("0001-01-01T", "9999-12-31T")), text


@given(st.text(alphabet=st.sampled_from(" \t\n\x0b\x1c\x1f\x85\xa0\u1680\u2007\u200b\u2028\u3000\ufeffax"), max_size=4))
def test_the_text_pattern_refuses_exactly_what_is_only_whitespace(value):
    # \s differs between Python and ECMA-262, so the schema spells out what str.strip() removes.
    pattern = category_schema("client")["$defs"]["Text"]["pattern"]
    assert bool(re.search(pattern, value)) == bool(value.strip()), repr(value)
