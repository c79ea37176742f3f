"""The stream worker end to end: events sent over HTTP to the local stack (`python -m local`),
derived rows read back over HTTP a moment later, the sweep run as `make sweep` runs it."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from ledgerline.domain.jsonio import loads
from ledgerline.events.outgoing import event_id
from tests.e2e.conftest import KEYS, ROOT
from tools.event_schemas import validate_detail

pytestmark = pytest.mark.e2e
WITHIN_SECONDS = 15


def send(http, body: dict[str, Any]) -> dict[str, Any]:
    status, _, answer = http("POST", "/ingest", body=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 200, answer
    return answer


def eventually(http, path: str, until=lambda item: True, key: str = KEYS["acme"]) -> dict[str, Any]:
    """GET `path` until it answers 200 with an item satisfying `until` (the worker is asynchronous)."""
    deadline = time.monotonic() + WITHIN_SECONDS
    last: Any = None
    while time.monotonic() < deadline:
        status, _, body = http("GET", path, key=key)
        last = (status, body)
        if status == 200 and until(body["item"]):
            return body["item"]
        time.sleep(0.1)
    raise AssertionError(f"{path} not ready within {WITHIN_SECONDS} s; last answer {last}")


@pytest.fixture
def ids() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {"client": f"C-{suffix}", "loan": f"LN-{suffix}", "pm1": f"PM1-{suffix}", "pm2": f"PM2-{suffix}"}


def schedule(http, ids: dict[str, str], second_due: str) -> None:
    send(http, {"category": "client", "data": {"client_id": ids["client"], "step": "create", "name": "Ada Lovelace",
                                               "client_type": "individual", "currency": "EUR"}})
    send(http, {"category": "disbursement", "data": {
        "disbursement_id": ids["loan"], "step": "create", "kind": "loan", "disbursement_amount": 10000,
        "currency": "EUR", "total_expected_margin": 1293.5, "client_id": ids["client"],
        "disbursement_date": "2024-10-20", "maturity_date": "2025-10-20"}})
    for payment_id, due, number in ((ids["pm1"], "2025-01-12", 1), (ids["pm2"], second_due, 2)):
        send(http, {"category": "payment", "data": {
            "payment_id": payment_id, "disbursement_id": ids["loan"], "status": "expected", "amount": 850.25,
            "currency": "EUR", "due_date": due, "installment_number": number}})


def test_ingested_schedule_shows_up_as_statement_status_and_events(http, ids):
    schedule(http, ids, second_due="2025-02-12")

    statement = eventually(http, f"/api/tables/statements/{ids['loan']}", lambda s: len(s["statements"]) == 2)

    first, second = statement["statements"]
    assert (first["due_date"], first["real_due_date"]) == ("2025-01-12", "2025-01-13")  # Sunday -> Monday
    assert (second["due_date"], second["real_due_date"]) == ("2025-02-12", "2025-02-12")
    assert (first["current_balance"], second["previous_balance"], second["current_balance"]) == (850.25, 850.25, 1700.5)
    assert statement["collection_status"] == "DELINQUENT" and statement["current_cycle"] == 1
    created = eventually(http, f"/api/tables/disbursement_status/{ids['loan']}~disbursements~{ids['loan']}~v1")
    overdue = eventually(http, f"/api/tables/disbursement_status/{ids['loan']}~payments~{ids['pm1']}~v1")
    assert (created["status"], created["previous_status"]) == ("ongoing", None)
    assert (overdue["status"], overdue["previous_status"]) == ("overdue", "ongoing")

    status, _, listed = http("GET", f"/api/tables/disbursement_status?disbursement_id={ids['loan']}")
    assert status == 200 and [r["status"] for r in listed["items"]] == ["ongoing", "overdue"]
    status, _, history = http("GET", f"/api/tables/statements/{ids['loan']}/history")
    assert status == 200 and history["total_versions"] == 3
    assert [len(v["record"]["statements"]) for v in history["history"]] == [2, 1, 0]  # newest first

    published = eventually(http, f"/api/tables/outgoing_events/{event_id('acme', 'statements', ids['loan'], 3)}")
    assert published["name"] == "disbursement_balance_statement_update_outgoing" and published["published_at"]
    validate_detail(published["name"], 1, published["detail"])
    assert published["detail"]["entity"]["statements"] == statement["statements"]


def test_derived_rows_belong_to_the_tenant_only(http, ids):
    schedule(http, ids, second_due="2099-02-12")
    path = f"/api/tables/statements/{ids['loan']}"
    eventually(http, path, lambda s: len(s["statements"]) == 2)

    status, _, body = http("GET", path, key=KEYS["other"])

    assert status == 404, body


def test_an_update_becomes_a_write_off_row_and_a_status(http, ids):
    schedule(http, ids, second_due="2099-02-12")
    update = send(http, {"category": "disbursement", "data": {
        "disbursement_id": ids["loan"], "step": "update", "disbursement_amount": 0,
        "change_date": "2025-03-01", "change_reason": "uncollectable"}})

    write_off = eventually(http, f"/api/tables/write_offs/{ids['loan']}~disbursements~{ids['loan']}~v2")
    status = eventually(http, f"/api/tables/disbursement_status/{ids['loan']}~disbursements~{ids['loan']}~v2")

    assert (write_off["old_amount"], write_off["new_amount"], write_off["write_off_amount"]) == (10000, 0, 10000)
    assert write_off["cause"]["event_id"] == update["event_id"]
    assert (status["status"], status["previous_status"]) == ("written_off", "overdue")


def test_make_sweep_moves_a_passed_due_date_to_overdue(http, stack, ids):
    schedule(http, ids, second_due="2099-01-10")
    send(http, {"category": "payment", "data": {"payment_id": ids["pm1"], "disbursement_id": ids["loan"],
                                                "status": "paid", "due_date": "2025-01-12"}})
    eventually(http, f"/api/tables/statements/{ids['loan']}", lambda s: s["collection_status"] == "NORMAL"
               and s["open_due_date"] == "2099-01-10")

    port = urlsplit(stack).port
    run = subprocess.run([sys.executable, "-m", "local.stream_pump", "sweep", "--port", str(port), "--date", "2099-01-11"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert run.returncode == 0, run.stderr
    assert loads(run.stdout.strip().splitlines()[-1])["complete"] is True
    row = eventually(http, f"/api/tables/disbursement_status/{ids['loan']}~sweep~2099-01-11")
    assert (row["status"], row["previous_status"], row["valid_from"]) == ("overdue", "ongoing", "2099-01-11")
    statement = eventually(http, f"/api/tables/statements/{ids['loan']}")
    assert statement["collection_status"] == "DELINQUENT"
