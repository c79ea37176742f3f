"""Reports end to end: a small book sent over HTTP to the local stack, every report route read
back over HTTP once the worker has posted it, with ETags, 304 and cache headers."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import KEYS

pytestmark = pytest.mark.e2e
WITHIN_SECONDS = 20
CURRENCY = "CHF"  # no other end-to-end test books in it, so the figures are this test's alone


def send(http, body: dict[str, Any]) -> None:
    status, _, answer = http("POST", "/ingest", body=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 200, answer


def path(name: str, **query: str) -> str:
    return f"/api/reports/{name}?" + urlencode({k.rstrip("_"): v for k, v in query.items()})


@pytest.fixture(scope="module")
def book(http) -> str:
    """A CHF loan of 1,000 with a fee of 20 on 2019-05-06, a receipt of 300 (50 interest) on
    2019-06-06, a revenue of 10 on 2019-05-20; the client added on 2019-05-05."""
    suffix = uuid.uuid4().hex[:8]
    client_id, loan_id = f"C-{suffix}", f"LN-{suffix}"
    send(http, {"category": "client", "effective_at": "2019-05-05",
                "data": {"client_id": client_id, "step": "create", "name": "Grace Hopper",
                         "client_type": "individual", "currency": CURRENCY}})
    send(http, {"category": "disbursement", "data": {
        "disbursement_id": loan_id, "step": "create", "kind": "loan", "disbursement_amount": 1000,
        "upfront_fee": 20, "currency": CURRENCY, "total_expected_margin": 100, "client_id": client_id,
        "disbursement_date": "2019-05-06", "maturity_date": "2020-05-06"}})
    send(http, {"category": "payment", "data": {
        "payment_id": f"PM-{suffix}", "disbursement_id": loan_id, "status": "paid", "amount": 300,
        "interest_amount": 50, "currency": CURRENCY, "due_date": "2019-06-06", "payment_date": "2019-06-06"}})
    send(http, {"category": "operation", "data": {
        "operation_id": f"OP-{suffix}", "operation_type": "revenue", "amount": 10, "currency": CURRENCY,
        "operation_date": "2019-05-20"}})
    deadline = time.monotonic() + WITHIN_SECONDS
    while time.monotonic() < deadline:
        status, _, body = http("GET", path("journal", from_="2019-01-01", to="2019-12-31", currency=CURRENCY))
        if status == 200 and len(body["lines"]) == 4 + 3 + 2:
            return client_id
        time.sleep(0.2)
    raise AssertionError(f"the journal was not posted within {WITHIN_SECONDS} s: {body}")


def test_every_report_answers_over_http(http, book):
    status, headers, sheet = http("GET", path("balance-sheet", as_of="2019-12-31", currency=CURRENCY))
    assert status == 200 and headers["Content-Type"] == "application/json"
    assets = {a["code"]: a["balance"] for a in sheet["assets"]["accounts"]}
    assert assets == {"1000": -690, "1100": 770, "1200": 0}  # -1,000 + 300 + 10; 1,020 - 250
    assert sheet["equity"]["accounts"][0]["balance"] == 80 and sheet["balance_check"]["balanced"] is True

    _, _, income = http("GET", path("income-statement", from_="2019-01-01", to="2019-12-31", currency=CURRENCY))
    assert income["net_income"] == 80 and income["revenue"]["total"] == 80

    _, _, flow = http("GET", path("cash-flow", from_="2019-06-01", to="2019-06-30", currency=CURRENCY))
    assert (flow["beginning_balance"], flow["ending_balance"]) == (-990, -690)
    assert flow["operating"] == {"inflows": 50, "outflows": 0, "net": 50}
    assert flow["investing"] == {"inflows": 250, "outflows": 0, "net": 250}

    _, _, portfolio = http("GET", path("portfolio", as_of="2019-12-31", currency=CURRENCY))
    assert portfolio["totals"] == {"disbursements": 1, "outstanding": 770}
    assert portfolio["by_status"]["settled"]["count"] == 1 and portfolio["par30"] == 0

    _, _, clients = http("GET", path("analytics/clients", from_="2019-05-05", to="2019-05-05"))
    assert {"date": "2019-05-05", "change_type": "addition", "client_id": book} == {
        k: clients["timeline"][0][k] for k in ("date", "change_type", "client_id")}

    _, _, journal = http("GET", path("journal", from_="2019-06-06", to="2019-06-06", currency=CURRENCY,
                                     account="1000"))
    (line,) = journal["lines"]
    assert (line["debit"], line["credit"], line["cause"]["table"]) == (300, 0, "payments")


def test_etags_answer_304_and_settled_past_answers_are_immutable(http, book):
    url = path("balance-sheet", as_of="2019-12-31", currency=CURRENCY)
    status, headers, _ = http("GET", url)
    assert headers["Cache-Control"] == "private, no-cache" and headers["ETag"]
    status, again, body = http("GET", url, headers={"If-None-Match": headers["ETag"]})
    assert (status, body, again["ETag"]) == (304, None, headers["ETag"])

    past = path("income-statement", from_="2019-01-01", to="2019-12-31", currency=CURRENCY,
                known_at="2020-01-01T00:00:00Z")
    status, headers, body = http("GET", past)
    assert (status, headers["Cache-Control"]) == (200, "private, max-age=31536000, immutable")
    assert body["net_income"] == 0  # nothing of this book was stored by then
    status, _, _ = http("GET", past, headers={"If-None-Match": headers["ETag"]})
    assert status == 304


def test_reports_need_the_read_scope_and_valid_parameters_and_stay_in_the_tenant(http, book):
    url = path("balance-sheet", as_of="2019-12-31", currency=CURRENCY)
    status, _, problem = http("GET", url, key=KEYS["ingester"])
    assert (status, problem["status"]) == (403, 403)
    status, _, sheet = http("GET", url, key=KEYS["other"])
    assert status == 200 and sheet["balance_check"]["assets_total"] == 0
    status, headers, problem = http("GET", path("cash-flow", from_="2019-02-30", to="2019-01-01"))
    assert status == 400 and headers["Content-Type"] == "application/problem+json"
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {("from", "invalid-date"),
                                                                    ("currency", "required")}
