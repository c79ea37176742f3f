"""The one OpenAPI document: generated from the routes, valid, and the committed copy matches."""

from __future__ import annotations

import json
from pathlib import Path

from openapi_spec_validator import validate

from ledgerline.api.ingest_schemas import category_schema, rebase
from ledgerline.api.openapi import document, document_json
from ledgerline.api.routes import ROUTES

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_document_is_valid_openapi_3_1():
    spec = document()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_the_committed_document_matches_the_code():
    assert COMMITTED.read_text(encoding="utf-8") == document_json(), "docs/openapi.json is stale: run `make api-docs`"


def test_every_authorized_route_is_documented_with_problem_answers():
    spec = document()
    for route in ROUTES:
        if not route.authorized:
            continue
        operation = spec["paths"][route.resource][route.method.lower()]
        for status in ("401", "403", "429", "500"):
            assert "application/problem+json" in operation["responses"][status]["content"], (route, status)


def test_the_ingest_body_is_one_of_the_four_category_events_discriminated_by_category():
    spec = document()
    ingest = spec["paths"]["/ingest"]["post"]
    body = ingest["requestBody"]["content"]["application/json"]["schema"]
    schemas = spec["components"]["schemas"]
    events = [schemas[variant["$ref"].rsplit("/", 1)[1]] for variant in body["oneOf"]]
    assert [e["properties"]["category"]["const"] for e in events] == ["client", "disbursement", "payment", "operation"]
    assert body["discriminator"]["propertyName"] == "category"
    assert body["discriminator"]["mapping"]["payment"] == "#/components/schemas/PaymentEvent"
    for event in events:
        assert event["additionalProperties"] is False and event["required"] == ["category", "data"]
        payload = schemas[event["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
        assert payload["additionalProperties"] is False and payload["required"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in ingest["parameters"])
    assert json.dumps(ingest).count("problem+json") >= 5


def test_validate_takes_the_ingest_body_without_an_idempotency_key():
    paths = document()["paths"]
    validate = paths["/validate"]["post"]
    assert validate["requestBody"] == paths["/ingest"]["post"]["requestBody"]
    assert not any(p["name"] == "Idempotency-Key" for p in validate.get("parameters", []))
    answer = validate["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["$ref"].endswith("/ValidateAnswer")


def test_the_payload_fields_are_typed_not_left_open():
    schemas = document()["components"]["schemas"]
    loan = schemas["DisbursementPayload"]["properties"]
    assert loan["disbursement_id"] == {"$ref": "#/components/schemas/Id"}
    assert loan["maturity_date"]["anyOf"][0] == {"$ref": "#/components/schemas/Date"}
    assert schemas["Money"]["type"] == "number" and schemas["Money"]["maximum"] == 10**12
    assert schemas["PositiveMoney"]["exclusiveMinimum"] == 0
    assert "EUR" in schemas["Currency"]["enum"]
    assert schemas["Id"]["pattern"].startswith("^")
    assert all(value != {} for payload in ("ClientPayload", "DisbursementPayload", "PaymentPayload",
                                           "OperationPayload")
               for name, value in schemas[payload]["properties"].items() if name not in ("entity_type", "entity_id"))


def test_the_payloads_are_the_published_schemas():
    schemas = document()["components"]["schemas"]
    for name in ("client", "disbursement", "payment", "operation"):
        published = category_schema(name)
        payload = {k: v for k, v in published.items() if k not in ("$schema", "$defs")}
        assert schemas[f"{name.capitalize()}Payload"] == rebase(payload, "#/components/schemas/")
        for definition, schema in published["$defs"].items():
            assert schemas[definition] == rebase(schema, "#/components/schemas/")


def test_the_public_routes_stay_out_of_the_document_which_points_to_the_schemas():
    spec = document()
    assert not any(path.startswith(("/schemas", "/openapi.json", "/docs")) for path in spec["paths"])
    assert "/schemas/ingest/{category}.json" in spec["paths"]["/ingest"]["post"]["requestBody"]["description"]


def test_bad_parameters_are_documented_as_400_problems_not_a_default_422():
    spec = document()
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            assert "HTTPValidationError" not in json.dumps(operation), path
    table = spec["paths"]["/api/tables/{table}"]["get"]["parameters"][0]
    assert table["name"] == "table" and "clients" in table["schema"]["enum"]



def test_report_parameters_say_what_is_valid_and_what_is_required():
    paths = document()["paths"]
    for path, operations in paths.items():
        if not path.startswith("/api/reports/"):
            continue
        parameters = {p["name"]: p for p in operations["get"]["parameters"] if p["in"] == "query"}
        for name in ("as_of", "from", "to", "currency"):
            if name in parameters:
                assert parameters[name]["required"] is True, (path, name)
        for name in ("as_of", "from", "to", "known_at"):
            if name in parameters:
                assert parameters[name]["schema"]["$ref"].endswith("/Date"), (path, name)
        if "currency" in parameters:
            assert parameters["currency"]["schema"]["$ref"].endswith("/Currency"), path
    account = {p["name"]: p for p in paths["/api/reports/journal"]["get"]["parameters"]}["account"]
    assert account["schema"]["enum"] == ["1000", "1100", "1200", "4000", "4100", "4200", "5000", "5100"]
    assert "currency" not in {p["name"] for p in paths["/api/reports/analytics/clients"]["get"]["parameters"]}


def test_report_money_is_documented_as_the_json_numbers_the_reports_answer():
    schemas = document()["components"]["schemas"]
    for name, field in (("AccountBalance", "balance"), ("CashFlow", "ending_balance"), ("Flows", "inflows"),
                        ("AgingBucket", "outstanding"), ("Portfolio", "par30"), ("JournalLine", "debit")):
        assert schemas[name]["properties"][field]["type"] == "number", (name, field)
