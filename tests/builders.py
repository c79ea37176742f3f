"""Builders for API Gateway events, Lambda contexts and valid payloads of every category."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerline.domain.jsonio import dumps


@dataclass
class FakeLambdaContext:
    function_name: str = "ledgerline-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:ledgerline-test"
    aws_request_id: str = "req"
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def api_event(method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None,
              tenant: str | None = "t1", key_id: str = "key_test", scopes: str = "ingest read",
              resource: str | None = None, path_parameters: dict[str, str] | None = None,
              query: dict[str, str] | None = None) -> dict[str, Any]:
    """A REST API (v1) proxy event as API Gateway hands it to a handler behind the authorizer."""
    raw = body if isinstance(body, str) or body is None else dumps(body)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    authorizer = {"tenant_id": tenant, "key_id": key_id, "scopes": scopes} if tenant else None
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "local",
            "httpMethod": method,
            "path": f"/local{path}",
            "resourcePath": resource or path,
            "identity": {"sourceIp": "127.0.0.1"},
            **({"authorizer": authorizer} if authorizer else {}),
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def client(client_id: str = "C1", step: str = "create", **fields: Any) -> dict[str, Any]:
    data = {"client_id": client_id, "step": step}
    if step == "create":
        data |= {"name": "Ada Lovelace", "client_type": "individual"}
    return {"category": "client", "data": data | fields}


OMIT = ...  # as a payload builder's field value: leave the field out


def _payload(data: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (data | fields).items() if v is not OMIT}


def loan_data(disbursement_id: str = "D1", step: str = "create", **fields: Any) -> dict[str, Any]:
    """A loan's payload (the `data` of its event); a field given as OMIT is left out."""
    data = {"disbursement_id": disbursement_id, "step": step}
    if step == "create":
        data |= {
            "kind": "loan", "disbursement_amount": Decimal("10000"), "currency": "EUR",
            "total_expected_margin": Decimal("1293.50"), "client_id": "C1",
            "disbursement_date": "2024-10-20", "maturity_date": "2025-10-20",
        }
    return _payload(data, fields)


def loan(disbursement_id: str = "D1", step: str = "create", **fields: Any) -> dict[str, Any]:
    return {"category": "disbursement", "data": loan_data(disbursement_id, step, **fields)}


def purchase(disbursement_id: str = "P1", step: str = "create", **fields: Any) -> dict[str, Any]:
    data = {"disbursement_id": disbursement_id, "step": step}
    if step == "create":
        data |= {
            "kind": "purchase", "disbursement_amount": Decimal("5000"), "currency": "EUR",
            "total_expected_margin": Decimal("400"), "purchase_clients": [{"client_id": "C1", "share": Decimal("1")}],
            "operation_date": "2024-10-20", "payment_date": "2024-10-21", "estimated_delivery_date": "2024-12-01",
            "goods_description": "Tractor", "goods_status": "pending",
        }
    return {"category": "disbursement", "data": data | fields}


def payment_data(payment_id: str = "PM1", status: str = "expected", **fields: Any) -> dict[str, Any]:
    """A payment's payload (the `data` of its event); a field given as OMIT is left out."""
    data = {
        "payment_id": payment_id, "disbursement_id": "D1", "status": status, "amount": Decimal("850.25"),
        "currency": "EUR", "due_date": "2024-11-20", "installment_number": 1,
    }
    return _payload(data, fields)


def payment(payment_id: str = "PM1", status: str = "expected", **fields: Any) -> dict[str, Any]:
    return {"category": "payment", "data": payment_data(payment_id, status, **fields)}


def operation(operation_id: str = "O1", **fields: Any) -> dict[str, Any]:
    data = {
        "operation_id": operation_id, "operation_type": "revenue", "amount": Decimal("12.5"),
        "currency": "EUR", "operation_date": "2024-11-01",
    }
    return {"category": "operation", "data": data | fields}


def ingest(call_ingest: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Send an event through the `call_ingest` fixture; its answer, which must be a 200."""
    status, _, answer = call_ingest(body)
    assert status == 200, answer
    return answer
