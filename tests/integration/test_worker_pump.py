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
    (record("v0", "clients"), False),  # no derivation from clients
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

    # a client, a loan (version, current item, ingested event, counter update): one record passes
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in delivered] == ["T#t1#disbursements#D1"]
    assert delivered[0]["eventSourceARN"].startswith("arn:aws:dynamodb:") and "/stream/" in delivered[0]["eventSourceARN"]
    assert isinstance(delivered[0]["dynamodb"]["ApproximateCreationDateTime"], int)
