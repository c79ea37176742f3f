"""Benchmark of distribution runs over moto: 100, 1,000 and 10,000 holders.

For each size: the DynamoDB calls and items written by `POST /api/distributions/calculate`,
by approval and by the payment file, and their time as a ratio to a floor measured in the same
run (one moto GetItem), as in bench/ingest.py. Run with `python -m bench.distributions [sizes...]`
(part of `make bench`); the figures are in docs/performance.md.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

import botocore.client

from bench.common import median_seconds

CALLS: Counter[str] = Counter()
WRITTEN: Counter[str] = Counter()
_real_call = botocore.client.BaseClient._make_api_call
SIZES = (100, 1_000, 10_000)
IMPORT_ROWS = 2_000  # rows per holder file, well under the 256 KiB body limit


def _counting_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
    if self.meta.service_model.service_name == "dynamodb":
        CALLS[operation] += 1
        if operation == "TransactWriteItems":
            WRITTEN[operation] += sum(1 for item in params["TransactItems"] if "ConditionCheck" not in item)
        elif operation == "BatchWriteItem":
            WRITTEN[operation] += sum(len(requests) for requests in params["RequestItems"].values())
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            WRITTEN[operation] += 1
    return _real_call(self, operation, params)


def _measure(action: Any) -> tuple[Any, float, Counter[str], int]:
    CALLS.clear()
    WRITTEN.clear()
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    return result, elapsed, Counter(CALLS), sum(WRITTEN.values())


def _calls(counter: Counter[str]) -> str:
    return f"{sum(counter.values())} ({', '.join(f'{name} {count}' for name, count in sorted(counter.items()))})"


def main() -> None:
    from moto import mock_aws

    import functions.distributions.handler as handler
    from ledgerline import aws
    from ledgerline.api import idempotent
    from ledgerline.domain.jsonio import loads
    from ledgerline.settings import get_settings
    from ledgerline.store.keys import current_key
    from ledgerline.store.schema import create_tables
    from tests.builders import FakeLambdaContext, api_event

    botocore.client.BaseClient._make_api_call = _counting_call  # type: ignore[method-assign]

    def call(method: str, path: str, body: Any = None, key_id: str = "key_maker", **options: Any) -> Any:
        event = api_event(method, path, body=body, key_id=key_id, scopes="read distribute approve", **options)
        response = handler.handler(event, FakeLambdaContext())
        assert response["statusCode"] in (200, 201), response["body"][:500]
        text = response["body"]
        return text if text.startswith("run_id,") else loads(text)

    def one_size(size: int) -> list[tuple[int, str, str, int, float, float]]:
        with mock_aws():
            aws.reset()
            idempotent.reset()
            settings = get_settings()
            create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)
            floor = median_seconds(lambda: aws.dynamodb().get_item(
                TableName=settings.records_table, Key=current_key("t1", "assets", "none")), 50)
            call("POST", "/api/assets", {"asset_id": "fund", "name": "Fund", "asset_type": "pool", "currency": "EUR"})
            header = "holder_id,name,iban,units\n"
            for start in range(0, size, IMPORT_ROWS):
                lines = "".join(f"h{n:05d},Holder {n},DE89370400440532013000,{n % 97 + 1}\n"
                                for n in range(start, min(size, start + IMPORT_ROWS)))
                call("POST", "/api/assets/fund/holders/import-csv", header + lines,
                     headers={"Content-Type": "text/csv"}, query={"effective_date": "2025-01-01"})
            call("POST", "/api/assets/fund/cash-flow-events", {
                "cash_flow_event_id": "q1", "type": "interest", "amount": 1_000_000, "currency": "EUR",
                "record_date": "2025-03-31", "payment_date": "2025-04-15"})
            run, calc_time, calc_calls, calc_items = _measure(lambda: call(
                "POST", "/api/distributions/calculate", {"asset_id": "fund", "cash_flow_event_id": "q1"}))
            run_id = run["distribution_run"]["run_id"]
            assert len(run["distribution_lines"]) == size
            _, approve_time, approve_calls, approve_items = _measure(lambda: call(
                "POST", f"/api/distribution-runs/{run_id}/approve", key_id="key_checker"))
            text, file_time, file_calls, _ = _measure(lambda: call(
                "GET", f"/api/distribution-runs/{run_id}/payment-file"))
            assert text.count("\n") == size + 1
            return [
                (size, "calculate", _calls(calc_calls), calc_items, calc_time / floor, calc_time),
                (size, "approve", _calls(approve_calls), approve_items, approve_time / floor, approve_time),
                (size, "payment file", _calls(file_calls), 0, file_time / floor, file_time),
            ]

    sizes = [int(arg) for arg in sys.argv[1:]] or SIZES
    print("| holders | request | DynamoDB calls | items written | time / floor | seconds (moto, this machine) |")
    print("| --- | --- | --- | --- | --- | --- |", flush=True)
    for size in sizes:
        for _, request, calls, items, ratio, seconds in one_size(size):
            print(f"| {size:,} | {request} | {calls} | {items:,} | {ratio:,.0f}x | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
