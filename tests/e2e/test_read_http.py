"""Over real HTTP against the local stack: reading back, paging, history and the API docs."""

from __future__ import annotations

import urllib.request
import uuid

import pytest

from tests.e2e.conftest import KEYS

pytestmark = pytest.mark.e2e


def ingest(http, body, key=KEYS["acme"]):
    status, _, answer = http("POST", "/ingest", body=body, key=key, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 200, answer
    return answer


def test_a_partner_pages_through_a_table_and_syncs_incrementally(http):
    for i in range(7):
        ingest(http, {"category": "client", "data": {"client_id": f"RD-C{i}", "step": "create",
                                                     "name": f"Client {i}", "client_type": "company"}})
    seen, cursor = [], None
    while True:
        path = "/api/tables/clients?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, _, page = http("GET", path)
        assert status == 200
        seen += [item["client_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert {f"RD-C{i}" for i in range(7)} <= set(seen) and len(seen) == len(set(seen))

    status, _, other = http("GET", "/api/tables/clients?limit=3", key=KEYS["other"])
    assert not any(item["client_id"].startswith("RD-") for item in other["items"])


def test_history_and_as_of_over_http(http):
    ingest(http, {"category": "client", "data": {"client_id": "RD-H1", "step": "create", "name": "First",
                                                 "client_type": "individual"}, "effective_at": "2024-01-01"})
    ingest(http, {"category": "client", "data": {"client_id": "RD-H1", "step": "update", "name": "Second"},
                  "effective_at": "2024-06-01"})
    status, _, history = http("GET", "/api/tables/clients/RD-H1/history")
    assert status == 200 and [h["version"] for h in history["history"]] == [2, 1]
    status, _, then = http("GET", "/api/tables/clients/RD-H1/as-of/2024-03-01")
    assert status == 200 and then["record"]["name"] == "First"
    status, _, problem = http("GET", "/api/tables/clients/RD-H1/as-of/2023-12-31")
    assert status == 404
    status, _, problem = http("GET", "/api/tables/clients/RD-H1/history", key=KEYS["other"])
    assert status == 404


def test_the_docs_are_served_without_a_key(http, stack):
    status, _, spec = http("GET", "/openapi.json", key=None)
    assert status == 200 and spec["openapi"] == "3.1.0" and "/ingest" in spec["paths"]
    with urllib.request.urlopen(stack + "/docs", timeout=30) as response:
        assert response.status == 200 and b"SwaggerUIBundle" in response.read()
