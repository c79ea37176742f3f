"""The local stack's stream pump: the shared filter patterns, Lambda's record shape, and what
the pump does with the records moto's stream holds after real writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local.stream_pump import lambda_shaped, matches, passes
from tests.builders import client, loan


def record(sk: str, table: str | None = None, *, event: str = "INSERT", image: bool = True) -> dict:
    keys = {"PK": {"S": f"T#t1#{table or 'x'}#1"}, "SK": {"S": sk}}
    stream = {"Keys": keys, "SequenceNumber": "1"}
    if image:
        stream["NewImage"] = {**keys, **({"table": {"S": table}} if table else {})}
    return {"eventName": event, "dynamodb": stream}


@pytest.mark.parametrize(("candidate", "expected"), [
    (record("v0", "payments"), True),
    (record("v0", "disbursements", event="MODIFY"), True),
    (record("v0", "operations"), True),
    (record("v0", "clients"), True),  # the registry's movements, for client analytics
    (record("v0", "purchase_clients"), False),  # no derivation from the clients of a purchase
    (record("v0", "statements"), False),  # the worker's own rows never come back
    (record("v0", "disbursement_status"), False),
    (record("v0", "outgoing_events"), True),  # a new event row: the stream is the outbox, publish it
    (record("v0", "outgoing_events", event="MODIFY"), False),  # rows never change; never published twice
    (record("v0", "outgoing_events", event="REMOVE", image=False), False),
    (record("v0000000002", "payments"), False),  # version items
    (record("v0", None), False),  # moto's keys-only first INSERT of an upsert
    (record("guard"), False),
    ({"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "DUE#2099-01-10#1"}, "SK": {"S": "T#t1#D1"}},
                                          "NewImage": {"PK": {"S": "DUE#2099-01-10#1"}, "SK": {"S": "T#t1#D1"}}}},
     False),
])
def test_only_source_changes_and_new_event_rows_pass_the_shared_filter(candidate, expected):
    assert passes(candidate) is expected


def test_the_local_matcher_refuses_operators_it_does_not_implement():
    with pytest.raises(ValueError, match="not supported"):
        matches({"dynamodb": {"NewImage": {"x": {"S": [{"exists": False}]}}}},
                {"dynamodb": {"NewImage": {"x": {"S": "a"}}}})
    with pytest.raises(ValueError, match="list of values"):
        matches({"eventName": "INSERT"}, {"eventName": "INSERT"})


def test_moto_records_get_lambda_shape():
    moto_record = {"eventID": "e1", "eventName": "INSERT", "eventVersion": "1.0", "eventSource": "aws:dynamodb",
                   "awsRegion": "us-east-1",
                   "dynamodb": {"ApproximateCreationDateTime": datetime(2025, 1, 12, 10, 0, tzinfo=UTC),
                                "Keys": {"PK": {"S": "a"}}, "SequenceNumber": "7", "SizeBytes": 10,
                                "StreamViewType": "NEW_AND_OLD_IMAGES"}}

    shaped = lambda_shaped(moto_record, "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x", "eu-west-1")

    assert shaped["eventSourceARN"] == "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x"
    assert shaped["awsRegion"] == "eu-west-1"
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == 1736676000
    assert moto_record["dynamodb"]["ApproximateCreationDateTime"].year == 2025  # the original is left alone


def test_after_an_ingest_only_the_source_record_reaches_the_worker(call_ingest, stream_pump):
    call_ingest(client())
    call_ingest(loan())

    delivered = stream_pump.read()

    # a client, a loan (version, current item, ingested event, the client's counter update): the
    # current items pass (a client's, for the registry's movements; its counter update is ignored)
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in delivered] == [
        "T#t1#clients#C1", "T#t1#disbursements#D1", "T#t1#clients#C1"]
    assert delivered[0]["eventSourceARN"].startswith("arn:aws:dynamodb:") and "/stream/" in delivered[0]["eventSourceARN"]
    assert isinstance(delivered[0]["dynamodb"]["ApproximateCreationDateTime"], int)


def test_a_record_the_worker_cannot_process_is_dead_lettered_and_never_stops_other_tenants(
        call_ingest, stream_pump, tables, worker_aws):
    import time

    from ledgerline.settings import get_settings
    from ledgerline.store import records

    poison_pk = "T#t9#payments#POISON"
    real_handler = stream_pump.handler

    def worker_that_crashes_on_the_poison(event, context):  # a whole invocation fails, as a Lambda crash does
        if any(r["dynamodb"]["Keys"]["PK"]["S"] == poison_pk for r in event["Records"]):
            raise RuntimeError("worker crashed")
        return real_handler(event, context)

    stream_pump.handler = worker_that_crashes_on_the_poison
    call_ingest(client(), tenant="t1")
    tables.put_item(TableName=get_settings().records_table, Item=records.to_attributes({
        "PK": poison_pk, "SK": "v0", "tenant": "t9", "table": "payments", "id": "POISON", "version": 1,
        "record": {"payment_id": "POISON"}, "valid_from": "2025-01-01", "system_from": "2025-01-01T00:00:00Z",
        "event_id": "ev_poison"}))
    call_ingest(loan(), tenant="t1")
    call_ingest(client(), tenant="t2")
    call_ingest(loan(), tenant="t2")

    stream_pump.start()  # the background loop of the local stack
    try:
        letters, statements = [], set()
        for _ in range(600):  # wait for the outcome, not for a time
            letters += worker_aws.dead_letters()
            statements = {i["PK"]["S"] for i in tables.scan(TableName=get_settings().records_table)["Items"]
                          if i["PK"]["S"].endswith("#statements#D1") and i["SK"]["S"] == "v0"}
            if letters and len(statements) == 2:
                break
            time.sleep(0.05)
    finally:
        stream_pump.stop()

    assert statements == {"T#t1#statements#D1", "T#t2#statements#D1"}  # both tenants' rows were derived
    [letter] = letters
    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert letter["responseContext"]["functionError"] == "RuntimeError: worker crashed"
    assert stream_pump._thread is not None and not stream_pump._thread.is_alive()  # stopped by us, not by a crash


def test_when_the_dead_letter_queue_refuses_the_pump_still_moves_on(
        call_ingest, stream_pump, tables, worker_aws, monkeypatch):
    from ledgerline.settings import get_settings
    from ledgerline.store import records

    gone = worker_aws.dlq_url.rsplit("/", 1)[0] + "/no-such-queue"
    monkeypatch.setenv("LEDGERLINE_WORKER_DLQ_URL", gone)
    get_settings.cache_clear()
    stream_pump.dlq_url = gone
    tables.put_item(TableName=get_settings().records_table, Item=records.to_attributes({
        "PK": "T#t9#payments#POISON", "SK": "v0", "tenant": "t9", "table": "payments", "id": "POISON",
        "version": 1, "record": {"payment_id": "POISON"}, "valid_from": "2025-01-01",
        "system_from": "2025-01-01T00:00:00Z", "event_id": "ev_poison"}))
    call_ingest(client(), tenant="t2")
    call_ingest(loan(), tenant="t2")

    stream_pump.drain()  # neither the worker nor the pump can dead-letter the poison record

    statement = tables.get_item(TableName=get_settings().records_table,
                                Key={"PK": {"S": "T#t2#statements#D1"}, "SK": {"S": "v0"}})
    assert "Item" in statement  # the record behind it was processed
    assert stream_pump.pump_once() == 0  # and the poison record is not delivered again


def test_a_shard_that_cannot_be_read_is_read_again_next_round(call_ingest, stream_pump):
    real_streams = stream_pump.streams
    failures = iter([RuntimeError("stream endpoint hiccup")])

    class FlakyStreams:
        def __getattr__(self, name):
            return getattr(real_streams, name)

        def get_records(self, **request):
            for failure in failures:
                raise failure
            return real_streams.get_records(**request)

    stream_pump.streams = FlakyStreams()
    call_ingest(client())
    call_ingest(loan())

    assert stream_pump.pump_once() == 0  # logged, not raised: the loop goes on
    assert stream_pump.pump_once() == 3  # the same records, from where the shard was
