"""DynamoDB calls per event: the cost model docs/performance.md and docs/operations.md rely on."""

from __future__ import annotations

from collections import Counter
from typing import Any

import botocore.client
import pytest

from tests.builders import client, loan


@pytest.fixture
def dynamodb_calls(monkeypatch):
    calls: Counter[str] = Counter()
    real = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def test_a_first_time_event_costs_one_read_one_transaction_and_two_idempotency_writes(call_ingest, dynamodb_calls):
    call_ingest(client(), key="seed")
    dynamodb_calls.clear()

    assert call_ingest(loan(), key="first")[2]["status"] == "Success"

    assert dynamodb_calls == Counter({"BatchGetItem": 1, "TransactWriteItems": 1, "PutItem": 1, "UpdateItem": 1})


def test_a_replay_costs_one_conditional_put(call_ingest, dynamodb_calls):
    call_ingest(client(), key="seed")
    dynamodb_calls.clear()

    assert call_ingest(client(), key="seed")[2]["status"] == "Duplicate"

    assert dynamodb_calls == Counter({"PutItem": 1})


def test_a_validation_costs_one_read_and_writes_nothing(call_ingest, dynamodb_calls):
    from functions.ingest.handler import handler
    from tests.builders import FakeLambdaContext, api_event

    call_ingest(client(), key="seed")
    dynamodb_calls.clear()

    response = handler(api_event("POST", "/validate", body=loan()), FakeLambdaContext())

    assert response["statusCode"] == 200
    assert dynamodb_calls == Counter({"BatchGetItem": 1})
