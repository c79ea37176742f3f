"""The stream worker over moto: ingest through the real handler, the local stack's stream pump
feeding the real worker handler, derived rows read back through the read API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerline.events.outgoing import event_id
from ledgerline.store import records
from tests.builders import client, ingest, loan, operation, payment, purchase
from tools.event_schemas import validate_detail

TABLE = "ledgerline-records-test"


def current(dynamodb, table: str) -> dict[str, dict[str, Any]]:
    """Every current record of one table of tenant t1, by id."""
    found = {}
    for item in dynamodb.scan(TableName=TABLE)["Items"]:
        values = records.from_attributes(item)
        if values["PK"].startswith(f"T#t1#{table}#") and values["SK"] == "v0":
            found[values["id"]] = values["record"]
    return found


def read(call_tables, table: str, record_id: str) -> dict[str, Any]:
    status, _, body = call_tables(f"/api/tables/{table}/{record_id}")
    assert status == 200, body
    return body["item"]


def published_and_checked(worker_aws) -> list[dict[str, Any]]:
    """What subscribers received, each event validated against its published schema."""
    events = worker_aws.published()
    for event in events:
        assert event["source"] == "ledgerline"
        validate_detail(event["detail-type"], 1, event["detail"])
    return events


def statuses(dynamodb) -> list[tuple[str, str | None]]:
    rows = sorted(current(dynamodb, "disbursement_status").values(), key=lambda r: r["created_at"])
    return [(row["status"], row["previous_status"]) for row in rows]


@pytest.fixture
def loan_with_schedule(call_ingest, stream_pump):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    ingest(call_ingest, payment("PM1", due_date="2025-01-12", installment_number=1))  # a Sunday, past
    ingest(call_ingest, payment("PM2", due_date="2099-02-12", installment_number=2, amount=Decimal("849.75")))
    stream_pump.drain()


def test_a_schedule_gives_status_history_and_a_statement(loan_with_schedule, call_tables, tables, worker_aws):
    statement = read(call_tables, "statements", "D1")

    assert statement["collection_status"] == "DELINQUENT"
    assert (statement["current_cycle"], statement["open_due_date"]) == (1, "2025-01-12")
    first, second = statement["statements"]
    assert (first["due_date"], first["real_due_date"]) == ("2025-01-12", "2025-01-13")
    assert (first["debits"], first["credits"], first["current_balance"]) == (850.25, 0, 850.25)
    assert (second["previous_balance"], second["debits"], second["current_balance"]) == (850.25, 849.75, 1700)
    assert statement["version"] == 3  # create, PM1, PM2
    assert statuses(tables) == [("ongoing", None), ("overdue", "ongoing")]
    overdue = read(call_tables, "disbursement_status", "D1~payments~PM1~v1")
    assert overdue["cause"]["table"] == "payments" and overdue["cause"]["event_id"].startswith("ev_")


def test_a_row_that_never_changes_is_one_item_read_back_as_version_1(loan_with_schedule, call_tables, tables):
    """Status rows and event rows are one item each, yet history, as-of and changes answer as for
    any record: one version, valid from its business time, stored by the worker."""
    status_id = "D1~payments~PM1~v1"
    pk = f"T#t1#disbursement_status#{status_id}"
    assert [i["SK"]["S"] for i in tables.scan(TableName=TABLE)["Items"] if i["PK"]["S"] == pk] == ["v0"]
    row = read(call_tables, "disbursement_status", status_id)
    assert row["version"] == 1

    status, _, body = call_tables(f"/api/tables/disbursement_status/{status_id}/history")
    assert status == 200 and body["total_versions"] == 1
    [only] = body["history"]
    assert (only["version"], only["previous_version"], only["changed_by"]) == (1, None, "worker")
    assert only["valid_from"] == row["valid_from"] and only["system_from"] == row["created_at"]
    assert only["record"] == row and only["event_id"] == row["cause"]["event_id"]
    assert "status" in only["changes"] and "version" not in only["changes"]

    status, _, as_of = call_tables(f"/api/tables/disbursement_status/{status_id}/as-of/2099-01-01")
    assert status == 200 and as_of["version"] == 1 and as_of["record"]["status"] == "overdue"
    status, _, _ = call_tables(f"/api/tables/disbursement_status/{status_id}/as-of/2000-01-01")
    assert status == 404  # before its valid time, it did not exist
    status, _, _ = call_tables(f"/api/tables/disbursement_status/{status_id}/as-of/2099-01-01",
                               query={"known_at": "2000-01-01T00:00:00Z"})
    assert status == 404  # before the worker stored it, nobody knew it
    status, _, changes = call_tables(f"/api/tables/disbursement_status/{status_id}/changes")
    assert status == 200 and [c["version"] for c in changes["changes"]] == [1]

    [event] = [i for i in tables.scan(TableName=TABLE)["Items"] if i["PK"]["S"].startswith("T#t1#outgoing_events#")][:1]
    event_id_ = event["id"]["S"]
    assert [i["SK"]["S"] for i in tables.scan(TableName=TABLE)["Items"] if i["PK"] == event["PK"]] == ["v0"]
    status, _, body = call_tables(f"/api/tables/outgoing_events/{event_id_}/history")
    assert status == 200 and [h["version"] for h in body["history"]] == [1]
    status, _, page = call_tables("/api/tables/outgoing_events", query={"disbursement_id": "D1"})
    assert status == 200 and event_id_ in {item["event_id"] for item in page["items"]}


def test_every_derived_change_is_published_once_and_logged(loan_with_schedule, call_tables, tables, worker_aws):
    events = published_and_checked(worker_aws)
    logged = current(tables, "outgoing_events")

    assert sorted(e["detail-type"] for e in events) == sorted(
        ["disbursement_balance_statement_update_outgoing"] * 3 + ["disbursement_status_update_outgoing"] * 2)
    assert {e["detail"]["event_id"] for e in events} == set(logged)
    for event in events:
        row = read(call_tables, "outgoing_events", event["detail"]["event_id"])
        assert row["name"] == event["detail-type"] and row["schema_version"] == 1
        assert row["detail"] == event["detail"] and row["published_at"] and row["disbursement_id"] == "D1"
    # each event row is one item, and nothing else was written to publish it
    event_items = [i for i in tables.scan(TableName=TABLE)["Items"] if i["PK"]["S"].startswith("T#t1#outgoing_events#")]
    assert sorted(i["SK"]["S"] for i in event_items) == ["v0"] * len(logged)
    statement_event = event_id("t1", "statements", "D1", 3)
    assert logged[statement_event]["subject"] == {"table": "statements", "id": "D1", "version": 3}


def test_large_items_are_listed_through_keys_only_indexes_and_read_whole(loan_with_schedule, call_ingest, stream_pump,
                                                                          call_tables, tables):
    """Statements and event rows are large records: their copies on the by-table index hold keys
    only (one write unit each), and a page reads the items themselves: every record once, whole,
    in update order."""
    ingest(call_ingest, loan("D2"))
    ingest(call_ingest, payment("PM3", disbursement_id="D2", due_date="2099-02-12", installment_number=1))
    stream_pump.drain()
    stored = [records.from_attributes(i) for i in tables.scan(TableName=TABLE)["Items"]]
    large = [i for i in stored if i["SK"] == "v0" and i["table"] in ("statements", "outgoing_events")]
    assert large and all("GSI4PK" in i and not {"GSI1PK", "GSI3PK"} & set(i) for i in large)
    assert all(("GSI2PK" in i) == (i["table"] == "outgoing_events") for i in large)

    for table in ("statements", "outgoing_events"):
        status, _, first = call_tables(f"/api/tables/{table}", query={"limit": "2"})
        listed, cursor = first["items"], first["next_cursor"]
        while cursor:
            status, _, page = call_tables(f"/api/tables/{table}", query={"limit": "2", "cursor": cursor})
            assert status == 200, page
            listed, cursor = listed + page["items"], page["next_cursor"]
        assert {r.get("event_id") or r["disbursement_id"]: r for r in listed} == current(tables, table)
        order = [(r["updated_at"], r.get("event_id") or r["disbursement_id"]) for r in listed]
        assert order == sorted(order) and len(order) == len(set(order))

    status, _, of_d2 = call_tables("/api/tables/outgoing_events", query={"disbursement_id": "D2"})
    assert status == 200 and of_d2["items"]
    assert {r["event_id"] for r in of_d2["items"]} == {
        r["event_id"] for r in current(tables, "outgoing_events").values() if r.get("disbursement_id") == "D2"}


def test_paying_cures_then_settles(loan_with_schedule, call_ingest, stream_pump, call_tables, tables, worker_aws):
    worker_aws.published()
    ingest(call_ingest, payment("PM1", "paid", due_date="2025-01-12", installment_number=1, payment_date="2025-01-13"))
    stream_pump.drain()
    assert read(call_tables, "statements", "D1")["collection_status"] == "NORMAL"
    ingest(call_ingest, payment("PM2", "paid", due_date="2099-02-12", installment_number=2, amount=Decimal("849.75")))
    stream_pump.drain()

    assert statuses(tables) == [("ongoing", None), ("overdue", "ongoing"), ("ongoing", "overdue"), ("settled", "ongoing")]
    cured = read(call_tables, "disbursement_status", "D1~payments~PM1~v2")
    assert cured["reason"].startswith("overdue payments cured")
    statement = read(call_tables, "statements", "D1")
    assert statement["collection_status"] == "SETTLED"
    assert (statement["current_cycle"], statement["open_due_date"]) == (None, None)
    assert [c["current_balance"] for c in statement["statements"]] == [0, 0]
    assert len(published_and_checked(worker_aws)) == 4  # 2 statements, 2 status changes


def test_a_canceled_installment_leaves_the_statement(loan_with_schedule, call_ingest, stream_pump, call_tables, tables):
    ingest(call_ingest, payment("PM1", "canceled", due_date="2025-01-12", installment_number=1))
    stream_pump.drain()

    statement = read(call_tables, "statements", "D1")
    assert [c["payment_ids"] for c in statement["statements"]] == [["PM2"]]
    assert statement["statements"][0]["cycle"] == 1 and statement["collection_status"] == "NORMAL"
    assert statuses(tables)[-1] == ("ongoing", "overdue")


def test_an_update_derives_extension_rebate_and_write_off(call_ingest, stream_pump, call_tables, tables, worker_aws):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    update = ingest(call_ingest, loan(step="update", maturity_date="2025-09-20", total_expected_margin=Decimal("1000"),
                                      disbursement_amount=Decimal("0"), change_date="2025-02-01",
                                      change_reason="uncollectable"))
    stream_pump.drain()

    row_id = "D1~disbursements~D1~v2"
    extension = read(call_tables, "extensions", row_id)
    rebate = read(call_tables, "rebates", row_id)
    write_off = read(call_tables, "write_offs", row_id)
    assert (extension["old_maturity_date"], extension["new_maturity_date"], extension["days_extended"]) == (
        "2025-10-20", "2025-09-20", -30)
    assert (rebate["old_margin"], rebate["new_margin"], rebate["rebate_amount"]) == (1293.5, 1000, 293.5)
    assert (write_off["old_amount"], write_off["new_amount"], write_off["write_off_amount"]) == (10000, 0, 10000)
    for row in (extension, rebate, write_off):
        assert (row["change_date"], row["change_reason"]) == ("2025-02-01", "uncollectable")
        assert row["cause"] == {"table": "disbursements", "id": "D1", "version": 2, "event_id": update["event_id"]}
        assert row["disbursement_id"] == "D1" and row["version"] == 1
    assert statuses(tables) == [("ongoing", None), ("written_off", "ongoing")]
    events = published_and_checked(worker_aws)
    changes = [e["detail"] for e in events if e["detail-type"] == "disbursement_change_outgoing"]
    assert sorted(c["entity"]["change_type"] for c in changes) == ["extension", "rebate", "write_off"]
    assert {c["operation"] for c in changes} == {"UPDATE"}
    assert {c["ingest"]["id"] for c in changes} == {update["event_id"]}


def test_a_delete_cancels(call_ingest, stream_pump, call_tables, tables, worker_aws):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    ingest(call_ingest, loan(step="delete"))
    stream_pump.drain()

    assert statuses(tables) == [("ongoing", None), ("canceled", "ongoing")]
    assert read(call_tables, "statements", "D1")["collection_status"] == "CANCELED"
    deletion = [e["detail"] for e in published_and_checked(worker_aws)
                if e["detail"]["entity"].get("status") == "canceled"]
    assert [d["operation"] for d in deletion] == ["DELETION"]


def test_assets_from_goods_status_and_from_operations(call_ingest, stream_pump, call_tables, tables, worker_aws):
    ingest(call_ingest, client())
    ingest(call_ingest, purchase())
    ingest(call_ingest, purchase(step="update", goods_status="in_transit"))
    ingest(call_ingest, operation("O1", disbursement_id="P1", asset_id="VH-1", asset_type="vehicle",
                                  asset_status="active", asset_value=Decimal("18250.75")))
    ingest(call_ingest, operation("O1", asset_status="impaired"))
    ingest(call_ingest, operation("O2", description="no asset here"))
    stream_pump.drain()

    assets = current(tables, "asset_status")
    assert sorted(assets) == ["P1~disbursements~P1~v1", "P1~disbursements~P1~v2", "VH-1~operations~O1~v1",
                              "VH-1~operations~O1~v2"]
    goods = read(call_tables, "asset_status", "P1~disbursements~P1~v2")
    assert (goods["asset_id"], goods["status"], goods["previous_status"]) == ("P1", "in_transit", "pending")
    vehicle = read(call_tables, "asset_status", "VH-1~operations~O1~v2")
    assert (vehicle["status"], vehicle["previous_status"], vehicle["asset_value"]) == ("impaired", "active", 18250.75)
    assert vehicle["disbursement_id"] == "P1"
    names = [e["detail-type"] for e in published_and_checked(worker_aws)]
    assert names.count("asset_status_update_outgoing") == 4


def test_only_source_records_and_new_event_rows_reach_the_worker(loan_with_schedule, call_ingest, stream_pump, tables):
    delivered: list[tuple[str, str]] = []
    real = stream_pump.handler

    def spy(event, context):
        for record in event["Records"]:
            keys = record["dynamodb"]["Keys"]
            image = record["dynamodb"].get("NewImage") or {}
            delivered.append((keys["SK"]["S"], (image.get("table") or {}).get("S", "")))
        return real(event, context)

    stream_pump.handler = spy
    ingest(call_ingest, payment("PM3", due_date="2099-03-12", installment_number=3))
    stream_pump.drain()

    # the payment, then the event row of what it derived; no derived row, version, due entry
    assert delivered[0] == ("v0", "payments")
    assert delivered[1:] == [("v0", "outgoing_events")]  # the new statement version; the status stays overdue
    assert current(tables, "statements")["D1"]["version"] == 4


def test_a_worker_behind_still_records_each_change_under_its_own_cause(call_ingest, stream_pump, tables):
    # Everything is stored before the worker sees any of it: each record is applied as of its
    # own time, with the disbursement as it was then (read from its versions).
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    ingest(call_ingest, payment("PM1", due_date="2025-01-12"))
    ingest(call_ingest, loan(step="update", disbursement_amount=Decimal("0"), change_date="2025-03-01",
                             change_reason="uncollectable"))
    ingest(call_ingest, payment("PM1", "paid", due_date="2025-01-12"))

    stream_pump.drain()

    rows = sorted(current(tables, "disbursement_status").values(), key=lambda r: r["created_at"])
    assert [(r["status_id"], r["status"]) for r in rows] == [
        ("D1~disbursements~D1~v1", "ongoing"),
        ("D1~payments~PM1~v1", "overdue"),
        ("D1~disbursements~D1~v2", "written_off"),
    ]
    statement = current(tables, "statements")["D1"]
    assert statement["collection_status"] == "WRITTEN_OFF"
    assert statement["statements"][0]["credits"] == Decimal("850.25")  # the receipt is in: current state


# -- status history in business time ---------------------------------------------------------------


def status_history(call_tables) -> list[tuple[str, str]]:
    status, _, page = call_tables("/api/tables/disbursement_status", query={"disbursement_id": "D1"})
    assert status == 200, page
    return sorted((row["valid_from"], row["status"]) for row in page["items"])


def test_the_status_history_reads_in_the_order_things_happened(call_ingest, call_tables, stream_pump):
    # A loan disbursed on 2024-12-01 is sent much later; its write-off is dated 2025-06-03.
    ingest(call_ingest, client())
    ingest(call_ingest, loan(disbursement_date="2024-12-01", maturity_date="2026-12-01"))
    stream_pump.drain()
    ingest(call_ingest, loan(step="update", disbursement_amount=Decimal("0"), change_date="2025-06-03",
                             change_reason="uncollectable"))
    stream_pump.drain()

    assert status_history(call_tables) == [("2024-12-01", "ongoing"), ("2025-06-03", "written_off")]


def test_overdue_and_cured_are_dated_by_the_due_date_and_the_payment_date(call_ingest, call_tables, stream_pump):
    ingest(call_ingest, client())
    ingest(call_ingest, loan(disbursement_date="2024-12-01", maturity_date="2026-12-01"))
    ingest(call_ingest, payment("PM1", due_date="2025-01-12", installment_number=1))
    ingest(call_ingest, payment("PM2", due_date="2099-02-12", installment_number=2))
    stream_pump.drain()
    ingest(call_ingest, payment("PM1", status="paid", due_date="2025-01-12", installment_number=1,
                                payment_date="2025-01-20"))
    stream_pump.drain()

    assert status_history(call_tables) == [("2024-12-01", "ongoing"), ("2025-01-13", "overdue"),
                                           ("2025-01-20", "ongoing")]


def test_a_stated_effective_at_dates_the_status_row(call_ingest, call_tables, stream_pump):
    ingest(call_ingest, client())
    ingest(call_ingest, {**loan(disbursement_date="2024-12-01", maturity_date="2026-12-01"),
                         "effective_at": "2024-12-02T08:00:00Z"})
    stream_pump.drain()

    assert status_history(call_tables) == [("2024-12-02T08:00:00Z", "ongoing")]
