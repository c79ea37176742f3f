"""Shared fixtures: moto-backed tables, handler invocation helpers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

# Fake credentials and names before anything creates a client.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "LEDGERLINE_TABLE": "ledgerline-records-test",
    "LEDGERLINE_IDEMPOTENCY_TABLE": "ledgerline-idempotency-test",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "LedgerlineTest",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_DEV": "false",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "LEDGERLINE_CURSOR_SECRET": "test-cursor-secret",
})
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture
def tables() -> Iterator[Any]:
    """Fresh moto tables for one test; yields the low-level DynamoDB client."""
    from moto import mock_aws

    from ledgerline.settings import get_settings
    from ledgerline.store import aws
    from ledgerline.store.schema import create_tables
    from local.moto_atomic import make_dynamodb_atomic

    make_dynamodb_atomic()
    with mock_aws():
        get_settings.cache_clear()
        aws.reset_clients()
        _reset_idempotency_store()
        settings = get_settings()
        create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)
        yield aws.dynamodb()
        aws.reset_clients()
        _reset_idempotency_store()


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    """A Lambda proxy response's headers, single- and multi-value, as one dict."""
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return headers | (response.get("headers") or {})


def _reset_idempotency_store() -> None:
    from ledgerline.api import ingest_routes

    ingest_routes._idempotent_ingest.cache_clear()


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
