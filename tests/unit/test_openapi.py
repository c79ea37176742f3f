"""The one OpenAPI document: generated from the routes, valid, and the committed copy matches."""

from __future__ import annotations

import json
from pathlib import Path

from openapi_spec_validator import validate

from ledgerline.api.openapi import document, document_json
from ledgerline.api.routes import ROUTES

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_document_is_valid_openapi_3_1():
    spec = document()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_the_committed_document_matches_the_code():
    assert COMMITTED.read_text(encoding="utf-8") == document_json(), (
        "docs/openapi.json is stale: regenerate it with "
        "`.venv/bin/python -c 'from ledgerline.api.openapi import document_json; "
        "open(\"docs/openapi.json\", \"w\").write(document_json())'` (PYTHONPATH=layers/core/python)"
    )


def test_every_authorized_route_is_documented_with_problem_answers():
    spec = document()
    for route in ROUTES:
        if not route.authorized:
            continue
        operation = spec["paths"][route.resource][route.method.lower()]
        for status in ("401", "403", "429", "500"):
            assert "application/problem+json" in operation["responses"][status]["content"], (route, status)


def test_the_ingest_body_documents_every_category_and_the_idempotency_key():
    ingest = document()["paths"]["/ingest"]["post"]
    variants = ingest["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [v["properties"]["category"]["const"] for v in variants] == [
        "client", "disbursement", "payment", "operation"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in ingest["parameters"])
    assert json.dumps(ingest).count("problem+json") >= 5


def test_validate_takes_the_ingest_body_without_an_idempotency_key():
    paths = document()["paths"]
    validate = paths["/validate"]["post"]
    assert validate["requestBody"] == paths["/ingest"]["post"]["requestBody"]
    assert not any(p["name"] == "Idempotency-Key" for p in validate.get("parameters", []))
    answer = validate["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["$ref"].endswith("/ValidateAnswer")
