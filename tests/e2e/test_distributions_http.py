"""The operator's distribution cycle over real HTTP on the local stack (docs/distributions.md)."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests.e2e.conftest import KEYS

pytestmark = pytest.mark.e2e
MAKER, CHECKER = KEYS["maker"], KEYS["checker"]


def test_holders_by_csv_to_payment_file_and_notices(http):
    asset_id = f"fund-{uuid.uuid4().hex[:8]}"
    status, _, asset = http("POST", "/api/assets", key=MAKER, body={
        "asset_id": asset_id, "name": "Receivables Pool A", "asset_type": "loan-pool", "currency": "BHD",
        "total_units": 1000})
    assert status == 201 and asset["currency"] == "BHD"
    holders = ("\ufeffholder_id,name,email,tax_id,iban,account_number,bank_code,beneficiary_name,units\r\n"
               "h1,\"Ahmed, A.\",a@example.com,,DE89370400440532013000,,,,500\r\n"
               "h2,=SUM(A1),,,,99887766,BANK-1,,300\r\n"
               "h3,Carla,,,GB82WEST12345698765432,,,,200\r\n").encode()
    status, _, counts = http("POST", f"/api/assets/{asset_id}/holders/import-csv?effective_date=2025-01-01",
                             key=MAKER, body=holders, headers={"Content-Type": "text/csv"})
    assert (status, counts) == (200, {"created": 3, "updated": 0, "unchanged": 0})
    status, _, _ = http("POST", f"/api/assets/{asset_id}/cash-flow-events", key=MAKER, body={
        "cash_flow_event_id": "q1", "type": "interest", "amount": 10, "currency": "BHD",
        "record_date": "2025-03-31", "payment_date": "2025-04-15"})
    assert status == 201

    status, _, run = http("POST", "/api/distributions/calculate", key=MAKER,
                          body={"asset_id": asset_id, "cash_flow_event_id": "q1"},
                          headers={"Idempotency-Key": f"calc-{asset_id}"})
    assert status == 201, run
    run_id = run["distribution_run"]["run_id"]
    assert [line["amount"] for line in run["distribution_lines"]] == [5, 3, 2]
    assert run["exceptions"] == []

    assert http("POST", f"/api/distribution-runs/{run_id}/approve", key=MAKER)[0] == 403  # no approve scope
    status, _, approved = http("POST", f"/api/distribution-runs/{run_id}/approve", key=CHECKER)
    assert status == 200 and approved["status"] == "approved"
    assert http("GET", f"/api/distribution-runs/{run_id}/payment-file", key=CHECKER)[0] == 403  # read is not enough

    status, headers, text = http("GET", f"/api/distribution-runs/{run_id}/payment-file", key=MAKER)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(r["holder_id"], r["amount"], r["currency"]) for r in rows] == [
        ("h1", "5.000", "BHD"), ("h2", "3.000", "BHD"), ("h3", "2.000", "BHD")]
    assert rows[1]["beneficiary_name"] == "'=SUM(A1)" and rows[1]["account_number"] == "99887766"

    assert http("POST", f"/api/distribution-runs/{run_id}/payment-file/mark-exported", key=MAKER)[2]["status"] \
        == "exported"
    status, _, notices = http("POST", f"/api/distribution-runs/{run_id}/notices/generate", key=MAKER)
    assert status == 200 and len(notices["notices"]) == 3
    status, _, sent = http("POST", f"/api/distribution-runs/{run_id}/notices/mark-sent", key=MAKER, body={})
    assert {n["status"] for n in sent["notices"]} == {"sent"}

    status, _, history = http("GET", f"/api/tables/distribution_runs/{run_id}/history", key=MAKER)
    by_status = {h["record"]["status"]: h["changed_by"] for h in history["history"]}
    assert status == 200 and by_status["approved"] != by_status["calculated"] == by_status["exported"]
    assert http("GET", f"/api/distribution-runs/{run_id}", key=KEYS["other"])[0] == 404
