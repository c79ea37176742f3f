"""Every log line of a request carries its request id as correlation id, the tenant and the key
id; every log line of the worker carries the tenant, the key that made the change and its
event id."""

from __future__ import annotations

import io
import json

from ledgerline.observability import logger
from tests.builders import FakeLambdaContext, api_event, client, operation


def test_an_ingest_request_logs_under_its_request_id_tenant_key_and_event(tables):
    from functions.ingest.handler import handler

    event = api_event("POST", "/ingest", body=client(), headers={"Idempotency-Key": "log-1"}, tenant="t9",
                      key_id="key_9")
    assert handler(event, FakeLambdaContext())["statusCode"] == 200

    keys = logger.get_current_keys()
    assert logger.get_correlation_id() == event["requestContext"]["requestId"]
    assert keys["tenant_id"] == "t9" and keys["key_id"] == "key_9" and keys["event_id"].startswith("ev_")


def test_a_read_request_logs_under_its_request_id_tenant_and_key(tables):
    from functions.tables.handler import handler

    event = api_event("GET", "/api/tables/clients", tenant="t8", key_id="key_8")
    assert handler(event, FakeLambdaContext())["statusCode"] == 200

    assert logger.get_correlation_id() == event["requestContext"]["requestId"]
    assert {"tenant_id": "t8", "key_id": "key_8"}.items() <= logger.get_current_keys().items()


def test_the_worker_logs_under_the_tenant_and_the_event_of_the_change(tables):
    from ledgerline.worker import process_stream_record

    record = {"eventID": "stream-1", "eventName": "INSERT", "dynamodb": {
        "Keys": {"PK": {"S": "T#t7#clients#C1"}, "SK": {"S": "v0000000001"}},
        "NewImage": {"tenant": {"S": "t7"}, "event_id": {"S": "ev_123"}, "table": {"S": "clients"}}}}
    written = io.StringIO()
    previous = logger.registered_handler.setStream(written)
    try:
        process_stream_record(record)  # not a worker input: logged as ignored
    finally:
        logger.registered_handler.setStream(previous)

    [line] = [json.loads(text) for text in written.getvalue().splitlines() if "stream record ignored" in text]
    assert line["tenant_id"] == "t7" and line["correlation_id"] == "ev_123" and line["stream_event_id"] == "stream-1"


def test_the_worker_logs_the_key_that_made_the_change(tables, monkeypatch):
    """A change ingested with one key is derived under that key's id: the current item the stream
    delivers says who changed it, so an operator can follow a key from the request to the worker."""
    from functions.ingest.handler import handler
    from ledgerline.settings import get_settings
    from ledgerline.worker import process_stream_record, stream

    event = api_event("POST", "/ingest", body=operation(), headers={"Idempotency-Key": "log-2"}, tenant="t6",
                      key_id="key_6")
    assert handler(event, FakeLambdaContext())["statusCode"] == 200
    [current] = [item for item in tables.scan(TableName=get_settings().records_table)["Items"]
                 if item["SK"]["S"] == "v0" and item.get("table", {}).get("S") == "operations"]
    monkeypatch.setattr(stream, "derive", lambda new, old, today: logger.warning("deriving"))
    written = io.StringIO()
    previous = logger.registered_handler.setStream(written)
    try:
        process_stream_record({"eventID": "stream-2", "eventName": "INSERT", "dynamodb": {
            "Keys": {"PK": current["PK"], "SK": current["SK"]}, "NewImage": current}})
    finally:
        logger.registered_handler.setStream(previous)

    [line] = [json.loads(text) for text in written.getvalue().splitlines() if "deriving" in text]
    assert line["tenant_id"] == "t6" and line["key_id"] == "key_6"
