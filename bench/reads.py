"""Benchmark of the read API over moto: DynamoDB calls and items read per request, and time.

Times are ratios to a floor measured in the same run (one moto GetItem), as in bench/ingest.py.
Run with `make bench`.
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections import Counter
from typing import Any

import botocore.client  # noqa: E402

from bench.common import median_seconds

warnings.filterwarnings("ignore", message="No application metrics to publish")
CALLS: Counter[str] = Counter()
ITEMS: Counter[str] = Counter()
_real_call = botocore.client.BaseClient._make_api_call


def _counting_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
    response = _real_call(self, operation, params)
    if self.meta.service_model.service_name == "dynamodb":
        CALLS[operation] += 1
        ITEMS[operation] += response.get("Count", 1 if "Item" in response else 0)
    return response


def main(rounds: int = 50) -> None:
    from moto import mock_aws

    import functions.ingest.handler as ingest_handler
    import functions.tables.handler as tables_handler
    from ledgerline import aws
    from ledgerline.api import ingest_routes
    from ledgerline.settings import get_settings
    from ledgerline.store.schema import create_tables
    from tests.builders import FakeLambdaContext, api_event, client, loan

    botocore.client.BaseClient._make_api_call = _counting_call  # type: ignore[method-assign]
    with mock_aws():
        aws.reset()
        ingest_routes._idempotent_ingest.cache_clear()
        settings = get_settings()
        create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)

        def send(body: dict[str, Any], key: str) -> None:
            event = api_event("POST", "/ingest", body=body, headers={"Idempotency-Key": key})
            assert ingest_handler.handler(event, FakeLambdaContext())["statusCode"] == 200

        def read(path: str, query: dict[str, str] | None = None) -> None:
            response = tables_handler.handler(api_event("GET", path, query=query), FakeLambdaContext())
            assert response["statusCode"] == 200, response["body"]

        for i in range(300):
            send(client(f"C{i:03d}"), f"c{i}")
        send(client(), "c-main")
        send(loan(), "loan")
        for i in range(9):  # a disbursement with 10 versions
            send(loan(step="update", bank_ref=f"r{i}"), f"u{i}")
        floor = median_seconds(lambda: aws.dynamodb().get_item(
            TableName=settings.records_table, Key={"PK": {"S": "x"}, "SK": {"S": "v0"}}), rounds)

        scenarios = {
            "GET /api/tables/clients?limit=100": lambda: read("/api/tables/clients", {"limit": "100"}),
            "GET /api/tables/clients/{id}": lambda: read("/api/tables/clients/C001"),
            "history of a record with 10 versions": lambda: read("/api/tables/disbursements/D1/history"),
            "as-of on a record with 10 versions": lambda: read("/api/tables/disbursements/D1/as-of/2030-01-01"),
            "changes of a record with 10 versions": lambda: read("/api/tables/disbursements/D1/changes"),
        }
        print(f"Median of {rounds} requests; floor = one moto GetItem.\n")
        print("| request | DynamoDB calls | items read | time / floor |")
        print("| --- | --- | --- | --- |")
        for name, action in scenarios.items():
            CALLS.clear()
            ITEMS.clear()
            timings = []
            for _ in range(rounds):
                start = time.perf_counter()
                action()
                timings.append(time.perf_counter() - start)
            calls = ", ".join(f"{op} {n / rounds:g}" for op, n in sorted(CALLS.items()))
            print(f"| {name} | {calls} | {sum(ITEMS.values()) / rounds:g} | "
                  f"{statistics.median(timings) / floor:.1f}x |")


if __name__ == "__main__":
    main()
