"""Distribution routes over moto (docs/distributions.md): the operator's whole cycle, maker-checker,
concurrent approvals, tenant isolation, the all-or-nothing holder import and bad input."""

from __future__ import annotations

import csv
import io
import threading
from decimal import Decimal

import pytest

IBAN_A = "DE89370400440532013000"
IBAN_B = "GB82WEST12345698765432"
CHECKER = {"key_id": "key_checker", "scopes": "read approve"}


@pytest.fixture
def api(call_distributions):
    return call_distributions


def ok(answer, status=200):
    assert answer[0] == status, answer
    return answer[2]


def make_asset(api, asset_id="fund-1", currency="EUR", **fields):
    return ok(api("POST", "/api/assets", {"asset_id": asset_id, "name": "Fund One", "asset_type": "loan-pool",
                                          "currency": currency, **fields}), 201)


def holder_file(*rows):
    return "holder_id,name,email,tax_id,iban,account_number,bank_code,beneficiary_name,units\r\n" + "".join(
        f"{row}\r\n" for row in rows)


def import_csv(api, asset_id, text, effective_date="2025-01-01", **options):
    return api("POST", f"/api/assets/{asset_id}/holders/import-csv", text,
               headers={"Content-Type": "text/csv", **options.pop("headers", {})},
               query={"effective_date": effective_date}, **options)


def event(api, asset_id="fund-1", event_id="q1", amount=100, **fields):
    body = {"cash_flow_event_id": event_id, "type": "interest", "amount": Decimal(str(amount)), "currency": "EUR",
            "record_date": "2025-03-31", "payment_date": "2025-04-15", **fields}
    return api("POST", f"/api/assets/{asset_id}/cash-flow-events", body)


def calculate(api, asset_id="fund-1", event_id="q1", **options):
    return api("POST", "/api/distributions/calculate", {"asset_id": asset_id, "cash_flow_event_id": event_id},
               **options)


def test_the_operators_cycle_from_holder_file_to_notices(api, call_tables):
    make_asset(api, total_units=Decimal(300))
    counts = ok(import_csv(api, "fund-1", holder_file(
        f"alice,Alice,alice@example.com,,{IBAN_A},,,,100",
        "bob,\"Bob, Jr\",bob@example.com,,,,,,100",  # no bank details yet
        f"carol,=cmd|' /C calc'!A0,,,{IBAN_B},,,,100",
    )))
    assert counts == {"created": 3, "updated": 0, "unchanged": 0}
    # Later positions: carol sells half to alice after the record date, which must not count.
    ok(api("POST", "/api/assets/fund-1/positions", {"holder_id": "carol", "units": 50,
                                                    "effective_date": "2025-04-01"}), 201)
    ok(event(api), 201)

    run = ok(calculate(api), 201)
    run_id = run["distribution_run"]["run_id"]
    assert run["distribution_run"]["status"] == "calculated" and run["distribution_run"]["calculated_by"] == "key_maker"
    assert run["distribution_run"]["total_units"] == 300 and run["distribution_run"]["total_amount"] == 100
    assert [(line["holder_id"], line["amount"]) for line in run["distribution_lines"]] == [
        ("alice", Decimal("33.34")), ("bob", Decimal("33.33")), ("carol", Decimal("33.33"))]
    assert [(e["code"], e.get("holder_id")) for e in run["exceptions"]] == [("missing-payment-details", "bob")]

    refused = api("POST", f"/api/distribution-runs/{run_id}/approve", **CHECKER)
    assert refused[0] == 409 and refused[2]["type"].endswith("/blocking-exceptions")
    assert refused[2]["errors"][0]["code"] == "missing-payment-details"

    # The fix: bob's account, by a second file that only fills the cells it changes.
    counts = ok(import_csv(api, "fund-1", "holder_id,account_number,bank_code\nbob,12345678,BANK01\n"))
    assert counts == {"created": 0, "updated": 1, "unchanged": 0}
    assert ok(api("POST", f"/api/distribution-runs/{run_id}/exceptions/detect")) == {"exceptions": []}

    approved = ok(api("POST", f"/api/distribution-runs/{run_id}/approve", **CHECKER))
    assert approved["status"] == "approved" and approved["approved_by"] == "key_checker"

    status, headers, text = api("GET", f"/api/distribution-runs/{run_id}/payment-file")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert headers["Content-Disposition"] == f'attachment; filename="payment-file-{run_id}.csv"'
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(r["holder_id"], r["amount"], r["iban"], r["account_number"]) for r in rows] == [
        ("alice", "33.34", IBAN_A, ""), ("bob", "33.33", "", "12345678"), ("carol", "33.33", IBAN_B, "")]
    assert rows[2]["beneficiary_name"] == "'=cmd|' /C calc'!A0" and rows[0]["reference"] == run_id

    exported = ok(api("POST", f"/api/distribution-runs/{run_id}/payment-file/mark-exported"))
    assert exported["status"] == "exported"
    assert ok(api("POST", f"/api/distribution-runs/{run_id}/payment-file/mark-exported")) == exported

    notices = ok(api("POST", f"/api/distribution-runs/{run_id}/notices/generate"))["notices"]
    assert [(n["notice_id"], n["status"]) for n in notices] == [
        (f"{run_id}:alice", "generated"), (f"{run_id}:bob", "generated"), (f"{run_id}:carol", "generated")]
    assert "33.34 EUR" in notices[0]["body"] and "2025-04-15" in notices[0]["body"]
    assert ok(api("POST", f"/api/distribution-runs/{run_id}/notices/generate"))["notices"] == notices
    sent = ok(api("POST", f"/api/distribution-runs/{run_id}/notices/mark-sent",
                  {"notice_ids": [f"{run_id}:alice"]}))["notices"]
    assert [n["status"] for n in sent] == ["sent", "generated", "generated"] and sent[0]["sent_at"]

    # Audit: the run's history names who calculated and who approved, through the read API.
    history = ok(call_tables(f"/api/tables/distribution_runs/{run_id}/history"))["history"]
    assert [(h["record"]["status"], h["changed_by"]) for h in sorted(history, key=lambda h: h["version"])] == [
        ("calculated", "key_maker"), ("calculated", "key_maker"), ("approved", "key_checker"),
        ("exported", "key_maker")]
    line = ok(call_tables(f"/api/tables/distribution_lines/{run_id}:alice"))["item"]
    assert line["amount"] == Decimal("33.34")
    assert ok(call_tables("/api/tables/holders/fund-1:bob/history"))["total_versions"] == 2


def test_positions_as_of_a_day(api):
    make_asset(api)
    ok(import_csv(api, "fund-1", holder_file(f"alice,Alice,,,{IBAN_A},,,,10"), effective_date="2025-01-01"))
    ok(api("POST", "/api/assets/fund-1/positions", {"holder_id": "alice", "units": 25, "effective_date": "2025-02-01"}),
       201)
    as_of = ok(api("GET", "/api/assets/fund-1/positions", query={"as_of": "2025-01-31"}))["items"]
    assert [(p["holder_id"], p["units"]) for p in as_of] == [("alice", 10)]
    as_of = ok(api("GET", "/api/assets/fund-1/positions", query={"as_of": "2025-02-01"}))["items"]
    assert [(p["holder_id"], p["units"]) for p in as_of] == [("alice", 25)]
    assert len(ok(api("GET", "/api/assets/fund-1/positions"))["items"]) == 2


def setup_run(api, units=(("alice", IBAN_A, 1), ("bob", IBAN_B, 2))):
    make_asset(api)
    ok(import_csv(api, "fund-1", holder_file(*(f"{h},{h.title()},,,{iban},,,,{u}" for h, iban, u in units))))
    ok(event(api), 201)
    return ok(calculate(api), 201)["distribution_run"]["run_id"]


def test_maker_checker_the_calculating_key_cannot_approve(api):
    run_id = setup_run(api)
    refused = api("POST", f"/api/distribution-runs/{run_id}/approve", scopes="read distribute approve")
    assert refused[0] == 403 and refused[2]["type"].endswith("/maker-checker")
    missing_scope = api("POST", f"/api/distribution-runs/{run_id}/approve", key_id="key_other")
    assert missing_scope[0] == 403 and "approve" in missing_scope[2]["detail"]
    assert ok(api("GET", f"/api/distribution-runs/{run_id}"))["distribution_run"]["status"] == "calculated"


def test_two_concurrent_approvals_one_wins(api):
    run_id = setup_run(api)
    answers = []
    barrier = threading.Barrier(4)

    def approve(n):
        barrier.wait()
        answers.append(api("POST", f"/api/distribution-runs/{run_id}/approve", key_id=f"key_checker{n}",
                           scopes="read approve"))

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a[0] for a in answers)
    assert statuses == [200, 409, 409, 409], answers
    assert all(a[2]["type"].endswith("/invalid-state") for a in answers if a[0] == 409)
    run = ok(api("GET", f"/api/distribution-runs/{run_id}"))["distribution_run"]
    assert run["status"] == "approved" and run["version"] == 2


def test_one_live_run_per_event_until_it_is_canceled(api):
    run_id = setup_run(api)
    second = calculate(api)
    assert second[0] == 409 and second[2]["errors"][0]["code"] == "live-run-exists"
    assert ok(api("POST", f"/api/distribution-runs/{run_id}/cancel"))["status"] == "canceled"
    again = api("POST", f"/api/distribution-runs/{run_id}/cancel")
    assert again[0] == 409 and again[2]["type"].endswith("/invalid-state")
    assert ok(calculate(api), 201)["distribution_run"]["run_id"] != run_id


def test_payment_file_and_notices_need_an_approved_run(api):
    run_id = setup_run(api)
    for method, path in (("GET", "payment-file"), ("POST", "payment-file/mark-exported"),
                         ("POST", "notices/generate")):
        refused = api(method, f"/api/distribution-runs/{run_id}/{path}")
        assert refused[0] == 409 and refused[2]["type"].endswith("/invalid-state"), path
    refused = api("POST", f"/api/distribution-runs/{run_id}/notices/mark-sent")
    assert refused[0] == 409


def test_a_holder_deleted_after_calculation_blocks_approval(api):
    run_id = setup_run(api)
    ok(api("DELETE", "/api/assets/fund-1/holders/bob"))
    refused = api("POST", f"/api/distribution-runs/{run_id}/approve", **CHECKER)
    assert refused[0] == 409 and [e["code"] for e in refused[2]["errors"]] == ["holder-deleted"]


def test_an_asset_with_an_open_run_cannot_be_deleted(api):
    run_id = setup_run(api)
    assert api("DELETE", "/api/assets/fund-1")[0] == 409
    ok(api("POST", f"/api/distribution-runs/{run_id}/cancel"))
    assert ok(api("DELETE", "/api/assets/fund-1"))["deleted"] is True
    assert api("GET", "/api/assets/fund-1")[0] == 404


def test_every_state_change_records_its_event_for_publishing(api, call_tables):
    from tools.event_schemas import validate_detail

    run_id = setup_run(api)
    ok(api("POST", f"/api/distribution-runs/{run_id}/approve", **CHECKER))
    rows = ok(call_tables("/api/tables/outgoing_events"))["items"]
    events = sorted((r for r in rows if r["subject"]["id"] == run_id), key=lambda r: r["subject"]["version"])
    assert [(e["name"], e["detail"]["entity"]["status"]) for e in events] == [
        ("distribution_run_update_outgoing", "calculated"), ("distribution_run_update_outgoing", "approved")]
    for event in events:
        validate_detail(event["name"], 1, event["detail"])


def test_the_import_is_all_or_nothing_and_a_retry_changes_nothing(api, call_tables):
    make_asset(api)
    refused = import_csv(api, "fund-1", holder_file(f"alice,Alice,,,{IBAN_A},,,,10", "bob,Bob,,,DE00,,,,x"))
    assert refused[0] == 422
    assert [(e["field"], e["code"]) for e in refused[2]["errors"]] == [("row 3: iban", "invalid-iban"),
                                                                       ("row 3: units", "invalid-units")]
    assert ok(api("GET", "/api/assets/fund-1/holders"))["items"] == []
    good = holder_file(f"alice,Alice,,,{IBAN_A},,,,10", f"bob,Bob,,,{IBAN_B},,,,20")
    assert ok(import_csv(api, "fund-1", good)) == {"created": 2, "updated": 0, "unchanged": 0}
    assert ok(import_csv(api, "fund-1", good)) == {"created": 0, "updated": 0, "unchanged": 2}
    assert ok(call_tables("/api/tables/holders/fund-1:alice/history"))["total_versions"] == 1
    assert import_csv(api, "fund-1", good, headers={"Content-Type": "application/json"})[0] == 415


def test_a_file_larger_than_one_transaction_is_applied_whole(api):
    make_asset(api)
    rows = [f"h{n:03d},Holder {n},,,{IBAN_A},,,,{n + 1}" for n in range(120)]  # 240 records to write
    assert ok(import_csv(api, "fund-1", holder_file(*rows))) == {"created": 120, "updated": 0, "unchanged": 0}
    assert len(ok(api("GET", "/api/assets/fund-1/holders"))["items"]) == 120
    ok(event(api), 201)
    run = ok(calculate(api), 201)  # 120 lines: written ahead of the run's own transaction
    assert sum(line["amount"] for line in run["distribution_lines"]) == 100
    assert len(ok(api("GET", f"/api/distribution-runs/{run['distribution_run']['run_id']}"))["distribution_lines"]) \
        == 120


def test_idempotency_key_replays_the_first_answer(api):
    make_asset(api)
    ok(import_csv(api, "fund-1", holder_file(f"alice,Alice,,,{IBAN_A},,,,10")))
    ok(event(api), 201)
    first = calculate(api, headers={"Idempotency-Key": "calc-1"})
    again = calculate(api, headers={"Idempotency-Key": "calc-1"})
    assert first[0] == again[0] == 201 and first[2] == again[2]
    assert again[1]["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first[1]
    other = api("POST", "/api/assets", {"asset_id": "x", "name": "X", "asset_type": "t", "currency": "EUR"},
                headers={"Idempotency-Key": "calc-1"})
    assert other[0] == 422 and other[2]["type"].endswith("/idempotency-key-reused")


def test_tenants_never_see_each_other(api):
    run_id = setup_run(api)
    other = {"tenant": "t2", "key_id": "key_t2", "scopes": "read distribute approve"}
    for method, path in (
        ("GET", "/api/assets/fund-1"), ("PATCH", "/api/assets/fund-1"), ("DELETE", "/api/assets/fund-1"),
        ("GET", "/api/assets/fund-1/holders"), ("GET", "/api/assets/fund-1/positions"),
        ("GET", "/api/assets/fund-1/cash-flow-events"), ("DELETE", "/api/assets/fund-1/holders/alice"),
        ("GET", f"/api/distribution-runs/{run_id}"), ("POST", f"/api/distribution-runs/{run_id}/approve"),
        ("POST", f"/api/distribution-runs/{run_id}/cancel"), ("GET", f"/api/distribution-runs/{run_id}/payment-file"),
        ("POST", f"/api/distribution-runs/{run_id}/payment-file/mark-exported"),
        ("POST", f"/api/distribution-runs/{run_id}/notices/generate"),
        ("POST", f"/api/distribution-runs/{run_id}/notices/mark-sent"),
        ("POST", f"/api/distribution-runs/{run_id}/exceptions/detect"),
    ):
        answer = api(method, path, {"name": "stolen"} if method == "PATCH" else None, **other)
        assert answer[0] == 404, (method, path, answer)
    for path, body in (("/api/assets/fund-1/holders", {"holder_id": "h", "name": "H"}),
                       ("/api/assets/fund-1/positions", {"holder_id": "alice", "units": 1,
                                                         "effective_date": "2025-01-01"}),
                       ("/api/assets/fund-1/cash-flow-events", {"cash_flow_event_id": "e", "type": "other",
                                                                "amount": 1, "currency": "EUR",
                                                                "record_date": "2025-01-01",
                                                                "payment_date": "2025-01-01"})):
        assert api("POST", path, body, **other)[0] == 404, path
    assert import_csv(api, "fund-1", holder_file("h,H,,,,,,,1"), **other)[0] == 404
    assert ok(api("GET", "/api/assets", **other))["items"] == []
    assert calculate(api, **other)[0] == 404
    # The other tenant may use the same ids for records of its own.
    assert api("POST", "/api/assets", {"asset_id": "fund-1", "name": "Theirs", "asset_type": "pool",
                                       "currency": "USD"}, **other)[0] == 201
    assert ok(api("GET", "/api/assets/fund-1"))["name"] == "Fund One"


def test_bad_input_on_every_field_is_listed(api):
    refused = api("POST", "/api/assets", {"asset_id": "bad id", "name": "", "asset_type": "", "currency": "XXX",
                                          "total_units": -1, "surprise": True})
    assert refused[0] == 422
    assert {e["field"] for e in refused[2]["errors"]} == {"asset_id", "name", "asset_type", "currency", "total_units",
                                                          "surprise"}
    make_asset(api, currency="JPY")
    refused = api("POST", "/api/assets/fund-1/holders", {"holder_id": "", "name": 1, "email": "no",
                                                         "tax_id": "", "payment": {"iban": "DE89370400440532013001",
                                                                                   "account_number": 5}})
    assert {e["field"] for e in refused[2]["errors"]} == {"holder_id", "name", "email", "tax_id", "payment.iban",
                                                          "payment.account_number"}
    refused = api("POST", "/api/assets/fund-1/positions", {"holder_id": "ghost", "units": Decimal("1.0000001"),
                                                           "effective_date": "2025-13-01"})
    assert {e["field"] for e in refused[2]["errors"]} == {"units", "effective_date"}
    refused = api("POST", "/api/assets/fund-1/positions", {"holder_id": "ghost", "units": 1,
                                                           "effective_date": "2025-01-01"})
    assert refused[0] == 422 and refused[2]["errors"][0]["code"] == "unknown-reference"
    refused = api("POST", "/api/assets/fund-1/cash-flow-events", {
        "cash_flow_event_id": "e1", "type": "interest", "amount": Decimal("10.5"), "currency": "JPY",
        "record_date": "2025-02-01", "payment_date": "2025-01-01", "description": ""})
    assert {(e["field"], e["code"]) for e in refused[2]["errors"]} == {("description", "too-short")}
    refused = api("POST", "/api/assets/fund-1/cash-flow-events", {
        "cash_flow_event_id": "e1", "type": "interest", "amount": Decimal("10.5"), "currency": "EUR",
        "record_date": "2025-02-01", "payment_date": "2025-01-01"})
    assert {(e["field"], e["code"]) for e in refused[2]["errors"]} == {("currency", "currency-mismatch"),
                                                                       ("payment_date", "out-of-range")}
    refused = api("POST", "/api/assets/fund-1/cash-flow-events", {
        "cash_flow_event_id": "e1", "type": "interest", "amount": Decimal("10.5"), "currency": "JPY",
        "record_date": "2025-02-01", "payment_date": "2025-02-01"})
    assert {(e["field"], e["code"]) for e in refused[2]["errors"]} == {("amount", "invalid-money")}
    refused = api("POST", "/api/distributions/calculate", {"asset_id": "fund-1", "cash_flow_event_id": "nope",
                                                           "x": 1})
    assert {e["field"] for e in refused[2]["errors"]} == {"x"}
    refused = api("POST", "/api/distributions/calculate", {"asset_id": "fund-1", "cash_flow_event_id": "nope"})
    assert refused[0] == 422 and refused[2]["errors"][0]["field"] == "cash_flow_event_id"
    refused = api("PATCH", "/api/assets/fund-1", {"currency": "EUR"})
    assert refused[0] == 422 and refused[2]["errors"][0] == {
        "field": "currency", "code": "unknown-field", "message": "is not a field of this record"}
    assert api("POST", "/api/assets", "[1]")[0] == 400
    assert api("POST", "/api/assets", "{}", headers={"Content-Type": "text/plain"})[0] == 415


def test_scopes_are_checked_by_the_function_too(api):
    assert api("POST", "/api/assets", {}, scopes="read")[0] == 403
    assert api("GET", "/api/assets", scopes="distribute")[0] == 403


def test_demo_seed_only_where_enabled_and_idempotent(api, call_tables, monkeypatch):
    from ledgerline.demo import book
    from ledgerline.settings import DEMO_SEED, get_settings

    assert api("POST", "/api/demo/seed")[0] == 404  # off unless the deployment turns it on
    monkeypatch.setenv(DEMO_SEED, "true")
    get_settings.cache_clear()
    try:
        first = ok(api("POST", "/api/demo/seed"))
        again = ok(api("POST", "/api/demo/seed"))
    finally:
        monkeypatch.delenv(DEMO_SEED)
        get_settings.cache_clear()
    assert first["holders"] == {"created": 4, "updated": 0, "unchanged": 0} and first["lending_book"]["stored"] == len(book())
    assert again["created"] == [] and again["holders"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert again["lending_book"]["stored"] == 0
    assert ok(call_tables("/api/tables/disbursements/DEMO-L1"))["item"]["client_id"] == "DEMO-C1"
    run = ok(calculate(api, "demo-fund", "demo-2025-q1"), 201)
    assert sum(line["amount"] for line in run["distribution_lines"]) == Decimal("12345.67")
    assert [e["code"] for e in run["exceptions"] if e["severity"] == "blocking"] == ["missing-payment-details"]
