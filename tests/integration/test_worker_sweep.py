"""The daily sweep: overdue without a new event, from the due queue, never a table scan."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import botocore.client
import pytest

from ledgerline import worker
from ledgerline.store import derived, records
from tests.builders import FakeLambdaContext, client, ingest, loan, payment
from tools.event_schemas import validate_detail

TABLE = "ledgerline-records-test"
DUE = date(2099, 1, 10)  # a Saturday, far enough ahead to be "not yet due" in real time


def due_entries(dynamodb) -> list[tuple[str, str]]:
    return sorted((i["PK"]["S"], i["SK"]["S"]) for i in dynamodb.scan(TableName=TABLE)["Items"]
                  if i["PK"]["S"].startswith("DUE#"))


def record(dynamodb, table: str, record_id: str) -> dict[str, Any] | None:
    item = dynamodb.get_item(TableName=TABLE, Key={"PK": {"S": f"T#t1#{table}#{record_id}"}, "SK": {"S": "v0"}})
    return records.from_attributes(item["Item"])["record"] if "Item" in item else None


@pytest.fixture
def due_soon(call_ingest, stream_pump, tables, worker_aws):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    ingest(call_ingest, payment("PM1", due_date=DUE.isoformat(), installment_number=1))
    ingest(call_ingest, payment("PM2", due_date="2099-02-10", installment_number=2))
    stream_pump.drain()
    worker_aws.published()
    return stream_pump


def test_the_day_after_the_due_day_the_sweep_makes_it_overdue_once(due_soon, tables, worker_aws):
    shard = derived.sweep_shard("t1", "D1")
    assert due_entries(tables) == [(f"DUE#2099-01-10#{shard}", "T#t1#D1")]  # queued by the worker
    assert record(tables, "statements", "D1")["collection_status"] == "NORMAL"

    on_the_day = worker.sweep(DUE)
    assert on_the_day["checked"] == 0 and record(tables, "statements", "D1")["collection_status"] == "NORMAL"

    summary = worker.sweep(date(2099, 1, 11))

    assert (summary["checked"], summary["overdue"]) == (1, 1)
    row = record(tables, "disbursement_status", "D1~sweep~2099-01-11")
    assert (row["status"], row["previous_status"], row["valid_from"]) == ("overdue", "ongoing", "2099-01-11")
    assert row["cause"] == {"table": "sweep", "id": "2099-01-11", "version": None, "event_id": "sweep_2099-01-11"}
    assert record(tables, "statements", "D1")["collection_status"] == "DELINQUENT"
    assert due_entries(tables) == []  # overdue: only an event can change it now
    due_soon.drain()  # the outgoing_events rows it wrote
    events = worker_aws.published()
    assert sorted(e["detail-type"] for e in events) == ["disbursement_balance_statement_update_outgoing",
                                                       "disbursement_status_update_outgoing"]
    for event in events:
        validate_detail(event["detail-type"], 1, event["detail"])
        assert event["detail"]["ingest"]["id"] == "sweep_2099-01-11" and event["detail"]["operation"] == "UPDATE"

    statement = record(tables, "statements", "D1")
    again = worker.sweep(date(2099, 1, 11))
    due_soon.drain()

    assert again["checked"] == 0 and record(tables, "statements", "D1") == statement
    assert worker_aws.published() == []


def test_a_late_sweep_still_dates_overdue_from_the_day_after_the_due_date(due_soon, tables):
    worker.sweep(date(2099, 1, 12))  # a day late: the scheduler missed a run

    assert record(tables, "disbursement_status", "D1~sweep~2099-01-12")["valid_from"] == "2099-01-11"


def test_paying_before_the_due_day_moves_the_entry_to_the_next_installment(due_soon, call_ingest, tables):
    ingest(call_ingest, payment("PM1", "paid", due_date=DUE.isoformat(), installment_number=1))
    due_soon.drain()

    assert [pk for pk, _ in due_entries(tables)] == [f"DUE#2099-02-10#{derived.sweep_shard('t1', 'D1')}"]
    assert worker.sweep(date(2099, 1, 11))["checked"] == 0


def test_the_watermark_closes_gaps_longer_than_the_lookback(due_soon, tables):
    worker.sweep(date(2099, 1, 5))  # a complete run: everything before 2099-01-05 is done

    summary = worker.sweep(date(2099, 1, 30))  # three weeks later; the lookback alone is 2 days

    assert summary["from"] == "2099-01-05" and summary["overdue"] == 1
    assert derived.swept_through() == date(2099, 1, 29)


def test_without_a_watermark_only_the_lookback_is_read_unless_told_since(due_soon, tables):
    assert worker.sweep(date(2099, 1, 30))["checked"] == 0
    assert record(tables, "statements", "D1")["collection_status"] == "NORMAL"

    summary = worker.sweep(date(2099, 1, 30), since=date(2099, 1, 1))

    assert summary["overdue"] == 1


def test_a_sweep_out_of_time_stops_and_the_next_run_finishes(due_soon, tables):
    from functions.worker.handler import handler

    stopped = worker.sweep(date(2099, 1, 11), out_of_time=lambda: True)

    assert stopped["complete"] is False and derived.swept_through() is None
    assert record(tables, "statements", "D1")["collection_status"] == "NORMAL"

    summary = handler({"ledgerline": "sweep", "date": "2099-01-11"}, FakeLambdaContext())  # the scheduler's call

    assert summary["overdue"] == 1 and summary["complete"]
    assert derived.swept_through() == date(2099, 1, 10)


def test_the_sweep_reads_by_key_never_scans_and_drops_stale_entries(due_soon, tables, monkeypatch):
    # stale entries: a disbursement no longer due that day, one that does not exist
    for disbursement_id in ("D1", "GONE"):
        tables.put_item(TableName=TABLE, Item={**derived.due_key(date(2099, 1, 9), "t1", disbursement_id),
                                               **records.to_attributes({"tenant": "t1",
                                                                        "disbursement_id": disbursement_id})})
    calls: Counter[str] = Counter()
    real = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)

    summary = worker.sweep(date(2099, 1, 11))
    during = Counter(calls)  # the sweep's own calls, before this test's checks add theirs

    # D1 found on the 9th is made overdue, which also removes its entry of the 10th
    assert (summary["checked"], summary["overdue"]) == (2, 1)
    assert due_entries(tables) == []
    assert "Scan" not in during
    # the lookback's 2 days x shards, and D1's payments; the watermark read and written
    assert during["Query"] == 2 * derived.SWEEP_SHARDS + 1
    assert (during["GetItem"], during["PutItem"]) == (1, 1)


def test_a_second_sweep_of_the_same_day_keeps_the_first_status_row(due_soon, call_ingest, tables):
    # overdue on the 11th, cured by a cancellation, then a new installment due on the 10th:
    # the second sweep of the 11th has the same cause (and row id) as the first.
    worker.sweep(date(2099, 1, 11))
    ingest(call_ingest, payment("PM1", "canceled", due_date=DUE.isoformat(), installment_number=1))
    ingest(call_ingest, payment("PM3", due_date=DUE.isoformat(), installment_number=3))
    due_soon.drain()
    assert record(tables, "statements", "D1")["collection_status"] == "NORMAL"

    summary = worker.sweep(date(2099, 1, 11))

    assert summary["checked"] == 1
    assert record(tables, "statements", "D1")["collection_status"] == "DELINQUENT"
    first = record(tables, "disbursement_status", "D1~sweep~2099-01-11")
    assert (first["version"], first["previous_status"], first["status"]) == (1, "ongoing", "overdue")
