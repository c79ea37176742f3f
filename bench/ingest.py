"""Benchmark of POST /ingest over moto: DynamoDB calls per event and time per event.

Times are reported as ratios to a floor measured in the same run (one moto `GetItem` round
trip), so figures compare across machines; absolute moto latencies say nothing about AWS.
Run with `make bench`; paste the table into docs/performance.md.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client

from bench.common import median_seconds

CALLS: Counter[str] = Counter()
_real_call = botocore.client.BaseClient._make_api_call


def _counting_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
    if self.meta.service_model.service_name == "dynamodb":
        CALLS[operation] += 1
    return _real_call(self, operation, params)


botocore.client.BaseClient._make_api_call = _counting_call  # type: ignore[method-assign]


@contextmanager
def counted() -> Iterator[Counter[str]]:
    CALLS.clear()
    snapshot: Counter[str] = Counter()
    yield snapshot
    snapshot.update(CALLS)


def main(rounds: int = 100) -> None:
    from moto import mock_aws

    import functions.ingest.handler as ingest_handler
    from ledgerline import aws
    from ledgerline.api import ingest_routes
    from ledgerline.settings import get_settings
    from ledgerline.store.schema import create_tables
    from tests.builders import FakeLambdaContext, api_event, client, loan, payment

    def send(body: dict[str, Any], key: str) -> None:
        event = api_event("POST", "/ingest", body=body, headers={"Idempotency-Key": key})
        response = ingest_handler.handler(event, FakeLambdaContext())
        assert response["statusCode"] == 200, response["body"]

    # moto slows down as a table grows, so every scenario starts from fresh tables.
    scenarios = {
        "client create (first time)": lambda i: (client(f"C-{i}"), f"c-{i}"),
        "loan create with 1 client": lambda i: (loan(f"D-{i}"), f"d-{i}"),
        "payment create (installment guard)": lambda i: (payment(f"P-{i}", installment_number=i + 1), f"p-{i}"),
        "disbursement update": lambda i: (loan(step="update", bank_ref=f"r-{i}"), f"u-{i}"),
        "replay of a stored event": lambda i: (client(), "seed-client"),
    }
    rows = []
    for name, make in scenarios.items():
        with mock_aws():
            aws.reset()
            ingest_routes._idempotent_ingest.cache_clear()
            settings = get_settings()
            create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)
            send(client(), "seed-client")
            send(loan(), "seed-loan")
            floor = median_seconds(lambda settings=settings: aws.dynamodb().get_item(
                TableName=settings.records_table, Key={"PK": {"S": "x"}, "SK": {"S": "v0"}}), rounds)
            timings = []
            with counted() as calls:
                for i in range(rounds):
                    body, key = make(i)
                    start = time.perf_counter()
                    send(body, key)
                    timings.append(time.perf_counter() - start)
        per_event = ", ".join(f"{op} {n / rounds:g}" for op, n in sorted(calls.items()))
        rows.append(f"| {name} | {sum(calls.values()) / rounds:g} ({per_event}) | "
                    f"{statistics.median(timings) / floor:.1f}x |")
    print(f"Median of {rounds} events per scenario; floor = one moto GetItem in the same tables.\n")
    print("| scenario | DynamoDB calls per event | time per event / floor |")
    print("| --- | --- | --- |")
    print("\n".join(rows))



if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
