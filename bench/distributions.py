"""Benchmark of distribution runs over moto: 100, 1,000 and 10,000 holders.

For each size, every step of the operator's cycle through the real handler: the holder import
(files of `IMPORT_ROWS` rows with name, e-mail, IBAN and units), calculation (for a run of more
than 1,000 lines: the 202 request, then its asynchronous finish), approval by a second key, the
export (payment file and mark-exported) and the notices (generate and mark-sent). Each step
prints its DynamoDB calls, items written, its time as a ratio to a floor measured in the same
run (one moto GetItem), as in bench/ingest.py, and an estimate of its time on Lambda.

moto's transaction copy of the whole table is skipped (`skip_moto_transaction_copy`), else a
10,000-holder run takes hours, none of it DynamoDB's; the benchmark checks that no transaction
failed. The estimate on Lambda is the step's own CPU time (measured here outside AWS calls,
plus botocore's validation and serialisation of each request, scaled to the function's memory)
plus an assumed DynamoDB latency per call (below). Writes the code makes concurrently
(`store.in_parallel`, `store.WRITERS` at once) run one at a time here, so that the CPU time is
measured alone, and their latency counts as spread evenly over the writers.

Run with `python -m bench.distributions [sizes...]` (`make bench` runs 100 and 1,000); the
figures are in docs/performance.md.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

import botocore.client
import botocore.exceptions

from bench.common import median_seconds, skip_moto_transaction_copy
from infra.sizing import FUNCTION_MEMORY_MB

SIZES = (100, 1_000, 10_000)
IMPORT_ROWS = 2_000  # rows per holder file (~180 KB here, under the 256 KiB body limit)

# Assumptions (what moto cannot measure): a warm Lambda to DynamoDB in the same region, the
# base latencies of bench/cost.py plus a cost per item for the calls that carry many.
BASE_MS = {"GetItem": 5, "PutItem": 6, "UpdateItem": 6, "DeleteItem": 6, "Query": 8, "BatchGetItem": 8,
           "BatchWriteItem": 10, "TransactWriteItems": 15}
PER_ITEM_MS = {"Query": 0.02, "BatchGetItem": 0.1, "BatchWriteItem": 0.3, "TransactWriteItems": 0.5}
FULL_VCPU_MB = 1769  # one full vCPU at 1,769 MB, proportionally less below
MEMORY_MB = FUNCTION_MEMORY_MB["distributions"]
API_GATEWAY_SECONDS = 29

CALLS: Counter[str] = Counter()
WRITTEN: Counter[str] = Counter()
CANCELED: list[str] = []
MODELED_MS = [0.0]  # assumed DynamoDB latency of the calls so far
SHARING = [1]  # inside `store.in_parallel`: how many concurrent writers the calls are spread over
IN_CALLS = [0.0]  # seconds inside AWS calls (moto), to tell the function's own time apart
SERIALISING = [0.0]  # seconds botocore spends building the requests (CPU the function pays)
_real_call = botocore.client.BaseClient._make_api_call


def _items_of(operation: str, params: dict[str, Any]) -> int:
    if operation == "TransactWriteItems":
        return len(params["TransactItems"])
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params["RequestItems"].values())
    if operation == "BatchGetItem":
        return sum(len(request["Keys"]) for request in params["RequestItems"].values())
    return 1


def _counting_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
    if self.meta.service_model.service_name != "dynamodb":
        return _real_call(self, operation, params)
    started = time.perf_counter()
    self._serializer.serialize_to_request(params, self.meta.service_model.operation_model(operation))
    SERIALISING[0] += time.perf_counter() - started
    CALLS[operation] += 1
    if operation == "TransactWriteItems":
        WRITTEN[operation] += sum(1 for item in params["TransactItems"] if "ConditionCheck" not in item)
    elif operation == "BatchWriteItem":
        WRITTEN[operation] += _items_of(operation, params)
    elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
        WRITTEN[operation] += 1
    started = time.perf_counter()
    try:
        response = _real_call(self, operation, params)
    except botocore.exceptions.ClientError:
        CANCELED.append(operation)
        raise
    finally:
        IN_CALLS[0] += time.perf_counter() - started
    items = len(response.get("Items", [])) if operation == "Query" else _items_of(operation, params)
    MODELED_MS[0] += (BASE_MS.get(operation, 10) + PER_ITEM_MS.get(operation, 0) * items) / SHARING[0]
    return response


class Step:
    """What one step cost: calls, items written, wall time here, and the estimate on Lambda."""

    def __init__(self, action: Any) -> None:
        for counter in (CALLS, WRITTEN):
            counter.clear()
        MODELED_MS[0] = IN_CALLS[0] = SERIALISING[0] = 0.0
        started = time.perf_counter()
        self.result = action()
        self.seconds = time.perf_counter() - started
        self.calls = Counter(CALLS)
        self.items = sum(WRITTEN.values())
        own_cpu = self.seconds - IN_CALLS[0] + SERIALISING[0]
        self.lambda_seconds = own_cpu * FULL_VCPU_MB / min(FULL_VCPU_MB, MEMORY_MB) + MODELED_MS[0] / 1000

    def calls_text(self) -> str:
        return f"{sum(self.calls.values())} ({', '.join(f'{n} {c}' for n, c in sorted(self.calls.items()))})"


def main() -> None:
    from moto import mock_aws

    import functions.distributions.handler as handler
    from ledgerline import aws, run_completion
    from ledgerline.api import idempotent
    from ledgerline.domain.jsonio import loads
    from ledgerline.settings import get_settings
    from ledgerline.store import distributions as store
    from ledgerline.store.keys import current_key
    from ledgerline.store.schema import create_tables
    from tests.builders import FakeLambdaContext, api_event

    skip_moto_transaction_copy()
    botocore.client.BaseClient._make_api_call = _counting_call  # type: ignore[method-assign]
    writers, one_at_a_time = store.WRITERS, store.in_parallel
    store.WRITERS = 1

    def spread_over_writers(tasks: list[Any]) -> None:
        SHARING[0] = max(1, min(writers, len(tasks)))
        try:
            one_at_a_time(tasks)
        finally:
            SHARING[0] = 1

    store.in_parallel = spread_over_writers  # type: ignore[assignment]
    finishing: list[tuple[str, str, str, str]] = []
    run_completion.finish_later = lambda *args: finishing.append(args)  # type: ignore[assignment]

    def call(method: str, path: str, body: Any = None, key_id: str = "key_maker", expect: tuple[int, ...] = (200, 201),
             **options: Any) -> Any:
        event = api_event(method, path, body=body, key_id=key_id, scopes="read distribute approve", **options)
        response = handler.handler(event, FakeLambdaContext())
        assert response["statusCode"] in expect, response["body"][:500]
        text = response["body"]
        return text if text.startswith("run_id,") else loads(text)

    def import_files(size: int) -> list[int]:
        sizes = []
        header = "holder_id,name,email,iban,units\n"
        for start in range(0, size, IMPORT_ROWS):
            rows = "".join(f"h{n:05d},Holder number {n},holder{n}@example.com,DE89370400440532013000,{n % 97 + 1}\n"
                           for n in range(start, min(size, start + IMPORT_ROWS)))
            content = header + rows
            sizes.append(len(content.encode()))
            call("POST", "/api/assets/fund/holders/import-csv", content,
                 headers={"Content-Type": "text/csv"}, query={"effective_date": "2025-01-01"})
        return sizes

    def one_size(size: int) -> tuple[float, list[tuple[str, Step]]]:
        with mock_aws():
            aws.reset()
            idempotent.reset()
            settings = get_settings()
            create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)
            floor = median_seconds(lambda: aws.dynamodb().get_item(
                TableName=settings.records_table, Key=current_key("t1", "assets", "none")), 50)
            call("POST", "/api/assets", {"asset_id": "fund", "name": "Fund", "asset_type": "pool", "currency": "EUR"})
            steps: list[tuple[str, Step]] = []
            imported = Step(lambda: import_files(size))
            files = imported.result
            steps.append((f"import ({len(files)} file{'s' if len(files) > 1 else ''}, largest "
                          f"{max(files) / 1024:.0f} KiB)", imported))
            call("POST", "/api/assets/fund/cash-flow-events", {
                "cash_flow_event_id": "q1", "type": "interest", "amount": 1_000_000, "currency": "EUR",
                "record_date": "2025-03-31", "payment_date": "2025-04-15"})
            finishing.clear()
            calculated = Step(lambda: call("POST", "/api/distributions/calculate",
                                           {"asset_id": "fund", "cash_flow_event_id": "q1"}, expect=(201, 202)))
            run = calculated.result["distribution_run"]
            assert len(calculated.result["distribution_lines"]) == size
            steps.append((f"calculate ({'202' if finishing else '201'})", calculated))
            if finishing:
                tenant, run_id, key_id, request_id = finishing.pop()
                payload = {"ledgerline": "finish-run", "tenant": tenant, "run_id": run_id, "key_id": key_id,
                           "request_id": request_id}
                finished = Step(lambda: handler.handler(payload, FakeLambdaContext()))
                assert finished.result["status"] == "calculated"
                steps.append(("calculate: asynchronous finish", finished))
            run_id = run["run_id"]
            steps.append(("approve", Step(lambda: call("POST", f"/api/distribution-runs/{run_id}/approve",
                                                       key_id="key_checker"))))

            def export() -> None:
                text = call("GET", f"/api/distribution-runs/{run_id}/payment-file")
                assert text.count("\n") == size + 1
                call("POST", f"/api/distribution-runs/{run_id}/payment-file/mark-exported")

            steps.append(("export (payment file, mark-exported)", Step(export)))

            def notices() -> tuple[int, int]:
                """Each route until no notice remains (runs of more than 1,000 lines go in slices)."""
                requests = []
                for route, body in (("generate", None), ("mark-sent", {})):
                    count = done = 0
                    while True:
                        answer = call("POST", f"/api/distribution-runs/{run_id}/notices/{route}", body)
                        count, done = count + 1, done + len(answer["notices"])
                        if not answer.get("remaining"):
                            break
                    assert done == size
                    requests.append(count)
                return requests[0], requests[1]

            noticed = Step(notices)
            generating, marking = noticed.result
            steps.append((f"notices (generate x{generating}, mark-sent x{marking})", noticed))
            assert not CANCELED, "a transaction failed: moto's rollback copy is off, the figures are void"
            return floor, steps

    sizes = [int(arg) for arg in sys.argv[1:]] or SIZES
    print(f"Estimate on Lambda: own CPU x {FULL_VCPU_MB}/{MEMORY_MB} MB + DynamoDB latency per call "
          f"{BASE_MS} ms + per item {PER_ITEM_MS} ms.")
    print("| holders | step | DynamoDB calls | items written | time / floor | estimate on Lambda (s) |")
    print("| --- | --- | --- | --- | --- | --- |", flush=True)
    for size in sizes:
        floor, steps = one_size(size)
        for name, step in steps:
            print(f"| {size:,} | {name} | {step.calls_text()} | {step.items:,} | {step.seconds / floor:,.0f}x "
                  f"| {step.lambda_seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
