"""The worker under replays, poison records, crashes between publishing and recording, and
races between two recomputations of one disbursement."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest

from ledgerline import worker
from ledgerline.domain.derive.common import Cause
from ledgerline.settings import get_settings
from ledgerline.store import derived, outgoing, records
from ledgerline.worker import publishing
from tests.builders import FakeLambdaContext, client, ingest, loan, payment

TABLE = "ledgerline-records-test"


def snapshot(dynamodb) -> list[dict[str, Any]]:
    items = [records.from_attributes(i) for i in dynamodb.scan(TableName=TABLE)["Items"]]
    return sorted(items, key=lambda i: (i["PK"], i["SK"]))


def spy_on(pump) -> list[dict[str, Any]]:
    delivered: list[dict[str, Any]] = []
    real = pump.handler

    def spy(event, context):
        delivered.extend(event["Records"])
        return real(event, context)

    pump.handler = spy
    return delivered


def put_corrupt_payment(dynamodb, payment_id: str) -> None:
    """A payments current item as a broken writer could leave it: no disbursement_id."""
    record = {"payment_id": payment_id, "status": "expected", "due_date": "2025-01-12", "version": 1,
              "created_at": "2025-01-01T00:00:00.000000Z", "updated_at": "2025-01-01T00:00:00.000000Z",
              "deleted": False}
    dynamodb.put_item(TableName=TABLE, Item=records.to_attributes({
        "PK": f"T#t1#payments#{payment_id}", "SK": "v0", "tenant": "t1", "table": "payments", "id": payment_id,
        "version": 1, "record": record, "valid_from": "2025-01-01", "system_from": "2025-01-01T00:00:00.000000Z",
        "event_id": "ev_corrupt", "change": {},
    }))


# -- replays -------------------------------------------------------------------------------------


def test_replaying_the_same_batch_leaves_identical_rows_and_events(call_ingest, stream_pump, tables, worker_aws):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    ingest(call_ingest, payment("PM1", due_date="2025-01-12"))
    ingest(call_ingest, payment("PM2", "expected", due_date="2099-02-12", installment_number=2))
    ingest(call_ingest, loan(step="update", maturity_date="2025-12-20", change_date="2025-02-01",
                             change_reason="extension"))
    delivered = spy_on(stream_pump)
    stream_pump.drain()
    before, published = snapshot(tables), worker_aws.published()
    event_rows = [r for r in delivered if r["dynamodb"]["NewImage"]["table"]["S"] == "outgoing_events"]
    assert len(published) >= 6 and len(event_rows) == len(published)

    stream_pump.deliver(list(delivered))  # Lambda delivers the very same records again
    stream_pump.drain()

    assert snapshot(tables) == before  # no row, version or event row written twice
    again = worker_aws.published()
    # only the redelivered event rows are published again (at least once), under their own ids
    assert sorted(e["detail"]["event_id"] for e in again) == sorted(e["detail"]["event_id"] for e in published)
    assert worker_aws.dead_letters() == []


# -- poison records ------------------------------------------------------------------------------


def test_a_poison_record_goes_to_the_dead_letter_queue_and_the_rest_is_processed(
        call_ingest, stream_pump, tables, worker_aws):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    put_corrupt_payment(tables, "BROKEN")
    ingest(call_ingest, loan("D2", client_id="C1"))
    ingest(call_ingest, payment("PM1", disbursement_id="D2", due_date="2025-01-12"))
    invocations = spy_on(stream_pump)

    stream_pump.drain()

    [letter] = worker_aws.dead_letters()
    assert letter["reason"] == "ValueError: payment 'BROKEN' has no disbursement_id"
    assert letter["attempts"] == get_settings().worker_max_attempts == 3
    assert letter["source"]["table"] == "payments" and letter["source"]["id"] == "BROKEN"
    assert letter["source"]["keys"] == {"PK": "T#t1#payments#BROKEN", "SK": "v0"}
    assert letter["stream_record"]["dynamodb"]["SequenceNumber"] == letter["source"]["sequence_number"]
    # the records behind it were processed: D2 has its status and its overdue statement
    statements = {i["id"]: i["record"] for i in snapshot(tables) if i["PK"].startswith("T#t1#statements#")
                  and i["SK"] == "v0"}
    assert statements["D2"]["collection_status"] == "DELINQUENT" and "D1" in statements
    # delivered three times, then given up; its attempt counter is gone
    broken = [r for r in invocations if r["dynamodb"]["Keys"]["PK"]["S"] == "T#t1#payments#BROKEN"]
    assert len(broken) == 3
    counters = tables.scan(TableName=get_settings().idempotency_table)["Items"]
    assert not [c for c in counters if c["id"]["S"].startswith("worker#attempts#")]


def test_an_event_row_whose_stored_record_cannot_be_read_is_dead_lettered_with_its_identity(stream_pump, tables,
                                                                                              worker_aws):
    table = get_settings().records_table
    tables.put_item(TableName=table, Item={
        "PK": {"S": "T#t1#outgoing_events#oe_broken"}, "SK": {"S": "v0"}, "tenant": {"S": "t1"},
        "table": {"S": "outgoing_events"}, "id": {"S": "oe_broken"}, "version": {"N": "1"},
        "record": {"B": b"not compressed JSON"},
    })

    stream_pump.drain()

    [letter] = worker_aws.dead_letters()
    assert letter["reason"].startswith("ValueError: stored record is not compressed JSON")
    assert letter["source"]["table"] == "outgoing_events" and letter["source"]["id"] == "oe_broken"
    assert worker_aws.published() == []


def test_the_handler_reports_only_the_failed_record(call_ingest, stream_pump, tables, worker_aws):
    from functions.worker.handler import handler

    ingest(call_ingest, client())
    put_corrupt_payment(tables, "BROKEN")
    ingest(call_ingest, loan())
    batch = stream_pump.read()
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in batch] == [
        "T#t1#clients#C1", "T#t1#payments#BROKEN", "T#t1#disbursements#D1", "T#t1#clients#C1"]

    response = handler({"Records": batch}, FakeLambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": batch[1]["dynamodb"]["SequenceNumber"]}]}


def test_a_batch_that_fails_whole_is_bisected_and_each_poison_record_dead_lettered(stream_pump, tables, worker_aws):
    put_corrupt_payment(tables, "BROKEN-1")
    put_corrupt_payment(tables, "BROKEN-2")

    stream_pump.drain()

    letters = worker_aws.dead_letters()
    assert sorted(letter["source"]["id"] for letter in letters) == ["BROKEN-1", "BROKEN-2"]


def test_without_a_dead_letter_queue_the_record_keeps_failing(stream_pump, tables, worker_aws, monkeypatch):
    # The worker cannot give up on its own; Lambda's on-failure destination takes over.
    monkeypatch.delenv("LEDGERLINE_WORKER_DLQ_URL")
    get_settings.cache_clear()
    put_corrupt_payment(tables, "BROKEN")

    stream_pump.drain()

    [on_failure] = worker_aws.dead_letters()  # the pump's on-failure message, Lambda's shape
    assert on_failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert on_failure["DDBStreamBatchInfo"]["batchSize"] == 1


# -- publishing ------------------------------------------------------------------------------------


def test_a_crash_after_publishing_publishes_again_but_records_once(
        call_ingest, stream_pump, tables, worker_aws, monkeypatch):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    real = publishing.publish
    crashes = []

    def crash_once_after_put_events(events):
        accepted = real(events)
        if not crashes:
            crashes.extend(e.event_id for e in events)
            raise ConnectionError("lost the connection after PutEvents")
        return accepted

    monkeypatch.setattr(publishing, "publish", crash_once_after_put_events)

    stream_pump.drain()

    published = worker_aws.published()
    ids = [e["detail"]["event_id"] for e in published]
    assert crashes and all(ids.count(event) == 2 for event in crashes)  # at least once: same id twice
    logged = [i for i in snapshot(tables) if i["PK"].startswith("T#t1#outgoing_events#")]
    assert sorted(i["id"] for i in logged) == sorted(set(ids))  # recorded once, one item each
    assert len(set(ids)) == 2  # the statement and the first status
    assert worker_aws.dead_letters() == []


def test_eventbridge_refusing_an_event_publishes_it_on_a_later_delivery(
        call_ingest, stream_pump, tables, worker_aws, monkeypatch):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    refused = []

    def refuse_the_statement_twice(events):
        kept = [e for e in events if e.name != "disbursement_balance_statement_update_outgoing" or len(refused) >= 2]
        refused.extend(e.event_id for e in events if e not in kept)
        return real(kept)

    real = publishing.publish
    monkeypatch.setattr(publishing, "publish", refuse_the_statement_twice)

    stream_pump.drain()

    assert len(refused) == 2  # the first two deliveries of its row's record; the third went through
    published = worker_aws.published()
    # Lambda redelivers from the failed record on, so the records behind it may go out again:
    # at least once each, every copy under the same event id
    assert {e["detail"]["event_id"]: e["detail-type"] for e in published} == {
        refused[0]: "disbursement_balance_statement_update_outgoing",
        **{e["detail"]["event_id"]: e["detail-type"] for e in published
           if e["detail-type"] == "disbursement_status_update_outgoing"}}
    assert sorted({e["detail-type"] for e in published}) == [
        "disbursement_balance_statement_update_outgoing", "disbursement_status_update_outgoing"]
    assert len({e["detail"]["event_id"] for e in published}) == 2
    assert worker_aws.dead_letters() == []


def test_rows_of_a_change_interrupted_half_way_are_completed_by_the_redelivery(
        call_ingest, stream_pump, tables, worker_aws, monkeypatch):
    """The rows of one change and their events are separate puts: a crash between them leaves
    the rest to the redelivered record, which writes only what is missing."""
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    stream_pump.drain()
    worker_aws.published()
    real = outgoing.emit
    crashes = []

    def crash_before_the_first_event(events, now, *args):
        if not crashes:
            crashes.append([e.event_id for e in events])
            raise ConnectionError("lost the connection before the event row")
        return real(events, now, *args)

    monkeypatch.setattr(outgoing, "emit", crash_before_the_first_event)
    ingest(call_ingest, loan(step="update", maturity_date="2025-12-20", total_expected_margin=900,
                             change_date="2025-02-01", change_reason="hardship"))
    stream_pump.drain()

    items = snapshot(tables)
    for table in ("extensions", "rebates"):
        rows = [i for i in items if i["PK"].startswith(f"T#t1#{table}#")]
        assert [i["SK"] for i in rows] == ["v0"] and rows[0]["version"] == 1  # once, one item
    names = sorted(e["detail-type"] for e in worker_aws.published())
    assert names.count("disbursement_change_outgoing") == 2  # the extension's and the rebate's, each once
    assert crashes[0][0] in {i["id"] for i in items if i["PK"].startswith("T#t1#outgoing_events#")}
    assert worker_aws.dead_letters() == []


# -- races ---------------------------------------------------------------------------------------


def test_two_recomputations_of_one_disbursement_cannot_interleave(call_ingest, tables, worker_aws, monkeypatch):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    ingest(call_ingest, payment("PM1", due_date="2025-01-12"))
    today = date(2025, 1, 20)
    first = Cause("disbursements", "D1", 1, "ev_a", "2025-01-01", "2025-01-01T00:00:00.000000Z")
    second = Cause("payments", "PM1", 1, "ev_b", "2025-01-02", "2999-01-01T00:00:00.000000Z")
    real_load = derived.load_state
    loads = []

    def load_then_lose_the_race(tenant, disbursement_id):
        state = real_load(tenant, disbursement_id)
        loads.append(state)
        if len(loads) == 1:  # another shard commits between this read and this write
            worker.recompute_disbursement(tenant, disbursement_id, second, today)
        return state

    monkeypatch.setattr(derived, "load_state", load_then_lose_the_race)

    result = worker.recompute_disbursement("t1", "D1", first, today)

    statement = {i["SK"]: i for i in snapshot(tables) if i["PK"] == "T#t1#statements#D1"}
    # the winner's version stands (version 1, held by the current item); the loser re-read it
    # and, being older, had nothing to add
    assert sorted(statement) == ["v0"] and statement["v0"]["version"] == 1
    assert statement["v0"]["record"]["cause"]["event_id"] == "ev_b"
    assert len(loads) >= 3 and result is not None and result.rows == []
    status_rows = [i for i in snapshot(tables) if i["PK"].startswith("T#t1#disbursement_status#") and i["SK"] == "v0"]
    assert [r["record"]["status"] for r in status_rows] == ["overdue"]


@pytest.mark.parametrize("threads", [4])
def test_concurrent_recomputations_keep_one_version_chain(call_ingest, tables, worker_aws, threads):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    for n in range(1, 4):
        ingest(call_ingest, payment(f"PM{n}", due_date=f"2099-0{n}-12", installment_number=n))
    errors = []

    def run(n):
        cause = Cause("payments", f"PM{n}", 1, f"ev_{n}", "2025-01-01", f"2999-01-0{n}T00:00:00.000000Z")
        try:
            worker.recompute_disbursement("t1", "D1", cause, date(2025, 1, 20))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(1, threads + 1)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    assert errors == []
    items = {i["SK"]: i for i in snapshot(tables) if i["PK"] == "T#t1#statements#D1"}
    # superseded versions have their items, the newest is the current item's own: no gap, no fork
    versions = sorted(int(i["version"]) for sk, i in items.items() if sk != "v0") + [int(items["v0"]["version"])]
    assert versions == list(range(1, len(versions) + 1))
    assert [c["payment_ids"] for c in items["v0"]["record"]["statements"]] == [["PM1"], ["PM2"], ["PM3"]]
