"""Shared fixtures: moto-backed tables, handler invocation helpers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ledgerline import settings as env

# Fake credentials and names before anything creates a client.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    env.TABLE: "ledgerline-records-test",
    env.IDEMPOTENCY_TABLE: "ledgerline-idempotency-test",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "LedgerlineTest",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_DEV": "false",
    "POWERTOOLS_METRICS_DISABLED": "true",
    env.CURSOR_SECRET: "test-cursor-secret",
})
os.environ.pop("AWS_ENDPOINT_URL", None)


@contextmanager
def moto_tables() -> Iterator[Any]:
    """Fresh moto tables built from the shared schema; yields the low-level DynamoDB client."""
    from moto import mock_aws

    from ledgerline import aws
    from ledgerline.settings import get_settings
    from ledgerline.store.schema import create_tables
    from local.moto_atomic import make_dynamodb_atomic

    make_dynamodb_atomic()
    with mock_aws():
        get_settings.cache_clear()
        aws.reset()
        _reset_idempotency_store()
        settings = get_settings()
        create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)
        yield aws.dynamodb()
        aws.reset()
        _reset_idempotency_store()


@pytest.fixture
def tables() -> Iterator[Any]:
    """Fresh moto tables for one test."""
    with moto_tables() as dynamodb:
        yield dynamodb


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    """A Lambda proxy response's headers, single- and multi-value, as one dict."""
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return headers | (response.get("headers") or {})


def _reset_idempotency_store() -> None:
    from ledgerline.api import idempotent, ingest_routes

    ingest_routes._idempotent_ingest.cache_clear()
    idempotent.reset()


@pytest.fixture
def call_ingest(tables: Any):
    """POST /ingest through the real handler: returns (status, headers, body)."""
    from functions.ingest.handler import handler
    from ledgerline.domain.jsonio import loads
    from tests.builders import FakeLambdaContext, api_event

    def call(body: Any, *, key: str | None = None, tenant: str = "t1", scopes: str = "ingest read",
             headers: dict[str, str] | None = None, context: FakeLambdaContext | None = None):
        extra = {"Idempotency-Key": key or str(uuid.uuid4())} if key != "" else {}
        event = api_event("POST", "/ingest", body=body, headers={**extra, **(headers or {})}, tenant=tenant,
                          scopes=scopes)
        response = handler(event, context or FakeLambdaContext())
        return response["statusCode"], headers_of(response), loads(response["body"])

    return call


@pytest.fixture
def call_tables(tables: Any):
    from functions.tables.handler import handler
    from ledgerline.domain.jsonio import loads
    from tests.builders import FakeLambdaContext, api_event

    def call(path: str, *, tenant: str = "t1", scopes: str = "ingest read", query: dict[str, str] | None = None):
        response = handler(api_event("GET", path, tenant=tenant, scopes=scopes, query=query), FakeLambdaContext())
        return response["statusCode"], headers_of(response), loads(response["body"])

    return call


@pytest.fixture
def call_distributions(tables: Any):
    """A distribution route through the real handler: returns (status, headers, body); the body is
    parsed JSON, or the text of a CSV answer."""
    from functions.distributions.handler import handler
    from ledgerline.domain.jsonio import loads
    from tests.builders import FakeLambdaContext, api_event

    def call(method: str, path: str, body: Any = None, *, tenant: str = "t1", key_id: str = "key_maker",
             scopes: str = "read distribute", headers: dict[str, str] | None = None,
             query: dict[str, str] | None = None):
        event = api_event(method, path, body=body, headers=headers, tenant=tenant, key_id=key_id, scopes=scopes,
                          query=query)
        response = handler(event, FakeLambdaContext())
        found = headers_of(response)
        text = response["body"]
        parsed = text if found.get("Content-Type", "").startswith("text/csv") else loads(text) if text else None
        return response["statusCode"], found, parsed

    return call


# -- the stream worker -------------------------------------------------------------------------


@pytest.fixture
def worker_aws(tables: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The worker's event bus and dead-letter queue in moto, plus a queue that receives a copy
    of every event published on the bus (an EventBridge rule), so tests see what subscribers see."""
    import json
    from types import SimpleNamespace

    from ledgerline import aws
    from ledgerline.settings import get_settings

    sqs, events = aws.client("sqs"), aws.client("events")
    bus = "ledgerline-events-test"
    events.create_event_bus(Name=bus)
    dlq = sqs.create_queue(QueueName="ledgerline-worker-dlq-test")["QueueUrl"]
    captured = sqs.create_queue(QueueName="ledgerline-published-test")["QueueUrl"]
    captured_arn = sqs.get_queue_attributes(QueueUrl=captured, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="capture", EventBusName=bus, EventPattern=json.dumps({"source": ["ledgerline"]}))
    events.put_targets(Rule="capture", EventBusName=bus, Targets=[{"Id": "captured", "Arn": captured_arn}])
    monkeypatch.setenv(env.EVENT_BUS, bus)
    monkeypatch.setenv(env.WORKER_DLQ_URL, dlq)
    get_settings.cache_clear()
    aws.reset()

    def drain(queue_url: str) -> list[dict[str, Any]]:
        messages = []
        while True:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    yield SimpleNamespace(sqs=sqs, bus=bus, dlq_url=dlq, published=lambda: drain(captured),
                          dead_letters=lambda: drain(dlq))
    get_settings.cache_clear()
    aws.reset()


@pytest.fixture
def stream_pump(worker_aws: Any) -> Any:
    """The local stack's stream pump over the test tables, driven by hand (`drain()`), feeding
    the real worker handler."""
    from functions.worker.handler import handler
    from ledgerline import aws
    from ledgerline.settings import get_settings
    from local.stream_pump import StreamPump
    from tests.builders import FakeLambdaContext

    return StreamPump(handler=handler, dynamodb=aws.dynamodb(), streams=aws.client("dynamodbstreams"),
                      sqs=worker_aws.sqs, table_name=get_settings().records_table, dlq_url=worker_aws.dlq_url,
                      context_factory=FakeLambdaContext)
