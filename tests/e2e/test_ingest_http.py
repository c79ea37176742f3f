"""Over real HTTP against the local stack: the path a partner's first events take."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import KEYS

pytestmark = pytest.mark.e2e


def ingest(http, body, key=KEYS["acme"], idempotency_key=None):
    return http("POST", "/ingest", body=body, key=key,
                headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())})


CLIENT = {"category": "client", "data": {"client_id": "E2E-C1", "step": "create", "name": "Ada",
                                         "client_type": "individual", "currency": "EUR"}}
LOAN = {"category": "disbursement", "data": {
    "disbursement_id": "E2E-D1", "step": "create", "kind": "loan", "disbursement_amount": 10000.25,
    "currency": "EUR", "total_expected_margin": 1293, "client_id": "E2E-C1",
    "disbursement_date": "2024-10-20", "maturity_date": "2025-10-20"}}


def test_a_partners_first_events_are_stored_replayed_and_readable(http):
    status, headers, body = ingest(http, CLIENT, idempotency_key="e2e-client-1")
    assert status == 200 and body["status"] == "Success" and headers["X-Request-Id"]
    assert ingest(http, LOAN)[0] == 200
    payment = {"category": "payment", "data": {
        "payment_id": "E2E-P1", "disbursement_id": "E2E-D1", "status": "expected", "amount": 850.1234,
        "currency": "EUR", "due_date": "2025-01-12", "installment_number": 1}}
    assert ingest(http, payment)[2]["status"] == "Success"

    status, headers, again = ingest(http, CLIENT, idempotency_key="e2e-client-1")
    assert status == 200 and again["status"] == "Duplicate" and headers["Idempotent-Replayed"] == "true"
    assert again["event_id"] == body["event_id"]

    status, _, read = http("GET", "/api/tables/payments/E2E-P1")
    assert status == 200 and read["item"]["amount"] == 850.1234 and read["item"]["source"] == "client"
    status, _, read = http("GET", "/api/tables/disbursements/E2E-D1")
    assert read["item"]["gross_value"] == 10000.25 and read["item"]["upfront_fee"] == 0
    status, _, event = http("GET", f"/api/tables/ingested_events/{body['event_id']}")
    assert status == 200 and event["item"]["request"] == CLIENT


def test_a_broken_event_lists_every_violation_as_a_problem(http):
    bad = {"category": "client", "data": {"client_id": "bad id", "step": "create", "name": "",
                                          "client_type": "robot", "birth_date": "2023-02-29"}}
    status, headers, problem = ingest(http, bad)
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    assert problem["instance"] == headers["X-Request-Id"]
    assert {e["field"] for e in problem["errors"]} == {
        "data.client_id", "data.name", "data.client_type", "data.birth_date"}


def test_credentials_and_scopes_are_enforced_by_the_gateway(http):
    status, _, problem = ingest(http, CLIENT, key="not-a-key")
    assert status == 401 and problem["type"].endswith("/problems/unauthorized")
    status, _, problem = ingest(http, CLIENT, key=None)
    assert status == 401
    status, _, problem = ingest(http, CLIENT, key=KEYS["reader"])
    assert status == 403 and problem["type"].endswith("/problems/forbidden")


def test_another_tenants_records_are_invisible(http):
    ingest(http, {"category": "client", "data": {**CLIENT["data"], "client_id": "E2E-SECRET"}})
    status, _, problem = http("GET", "/api/tables/clients/E2E-SECRET", key=KEYS["other"])
    assert status == 404 and problem["type"].endswith("/problems/not-found")


def test_oversized_bodies_and_unknown_routes_are_problems(http):
    big = {"category": "client", "data": {"client_id": "X", "step": "create", "info": {"x": "a" * 300_000}}}
    status, _, problem = ingest(http, big)
    assert status == 413 and problem["type"].endswith("/problems/payload-too-large")
    status, _, problem = http("GET", "/nowhere")
    assert status == 404 and problem["type"].endswith("/problems/not-found")
