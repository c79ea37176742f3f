"""Protocol answers of the local front: every method, 401 challenges, money and text over real HTTP."""

from __future__ import annotations

import http.client
import json
import re
import uuid
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import KEYS


def send(stack: str, method: str, path: str, *, body: bytes | None = None,
         key: str | None = KEYS["acme"], headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(stack)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if key:
        all_headers["Authorization"] = f"Bearer {key}"
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), raw


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("OPTIONS", "/ingest", "POST"),
    ("PUT", "/ingest", "POST"),
    ("OPTIONS", "/api/tables/clients", "GET"),
    ("DELETE", "/api/tables/clients/C1", "GET"),
])
def test_a_method_the_route_lacks_is_405_with_allow(stack, method, path, allowed):
    status, headers, raw = send(stack, method, path)
    assert status == 405 and headers["Allow"] == allowed
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(raw)
    assert problem["type"].endswith("/method-not-allowed") and problem["status"] == 405


def test_head_is_405_with_headers_only(stack):
    status, headers, raw = send(stack, "HEAD", "/ingest")
    assert status == 405 and headers["Allow"] == "POST" and raw == b""
    assert headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "FOO"])
def test_an_unknown_method_is_403_problem_never_an_html_page(stack, method):
    status, headers, raw = send(stack, method, "/ingest")
    assert status == 403 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(raw)["type"].endswith("/forbidden")


@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_a_401_challenges_for_a_bearer_token(stack, key):
    status, headers, raw = send(stack, "GET", "/api/tables", key=key)
    assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
    assert json.loads(raw)["type"].endswith("/unauthorized")


def test_a_body_that_is_not_utf8_is_explained_plainly(stack):
    body = '{"category": "client", "data": {"client_id": "C1", "name": "Zoé"}}'.encode("latin-1")
    status, _, raw = send(stack, "POST", "/ingest", body=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 400 and json.loads(raw)["detail"] == "The body is not UTF-8 text."


def test_money_sent_with_an_exponent_or_trailing_zeros_is_read_back_plain(stack):
    client = ('{"category": "client", "data": {"client_id": "MONEY-1", "step": "create", "name": "Ada",'
              ' "client_type": "individual", "currency": "EUR"}}')
    loan = ('{"category": "disbursement", "data": {"disbursement_id": "MONEY-D1", "step": "create",'
            ' "kind": "loan", "client_id": "MONEY-1", "currency": "EUR", "disbursement_amount": 10000.000000,'
            ' "disbursement_date": "2024-01-10", "maturity_date": "2025-01-10", "total_expected_margin": 1E+3,'
            ' "info": {"fee": 1E+3}}}')
    for body in (client, loan):
        status, _, raw = send(stack, "POST", "/ingest", body=body.encode(),
                              headers={"Idempotency-Key": str(uuid.uuid4())})
        assert status == 200, raw
    for path in ("/api/tables/disbursements/MONEY-D1", "/api/tables/disbursements/MONEY-D1/history",
                 "/api/tables/disbursements/MONEY-D1/as-of/2099-01-01",
                 "/api/tables/disbursements?disbursement_id=MONEY-D1"):
        status, _, raw = send(stack, "GET", path)
        text = raw.decode()
        assert status == 200, text
        assert '"disbursement_amount":10000,' in text and '"total_expected_margin":1000' in text
        assert '"fee":1000}' in text
        assert not re.search(r'":-?\d+(\.\d+)?[eE]', text), text


def test_u0000_is_refused_before_anything_is_stored(stack):
    body = ('{"category": "client", "data": {"client_id": "NUL-1", "step": "create", "name": "Ada",'
            ' "client_type": "individual", "currency": "EUR", "info": {"note": "a\\u0000b", "x": {"": 1}}}}')
    status, _, raw = send(stack, "POST", "/ingest", body=body.encode(), headers={"Idempotency-Key": str(uuid.uuid4())})
    problem = json.loads(raw)
    assert status == 422 and problem["type"].endswith("/validation-error")
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("data.info.note", "invalid-characters"), ('data.info.x.""', "empty-member-name")}
    assert send(stack, "GET", "/api/tables/clients/NUL-1")[0] == 404
    status, _, raw = send(stack, "GET", "/api/tables/clients")
    assert status == 200
