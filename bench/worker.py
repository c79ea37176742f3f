"""Benchmark of the stream worker over moto: stream records per second in one process, and
DynamoDB item writes per derived row.

Events are ingested first (not timed); then the table's stream is read the way the local
stack's pump reads it and handed to the real worker handler in Lambda-shaped batches of 100
(timed). Writes are counted per item: a TransactWriteItems of n items counts n, the way
DynamoDB bills it (transactional items cost two write units each). The journal's items (lines,
totals, positions) and the reports' other items (portfolio facts, client movements) are not derived
rows: they are counted apart. moto copies the whole
table for every transaction, so the absolute rate says more about moto than about Lambda;
the floor (one moto GetItem on the same tables) is printed to compare runs across machines.

Run: `python -m bench.worker [disbursements]` (default 40).
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import botocore.client
import botocore.exceptions

from bench.common import median_seconds, skip_moto_transaction_copy
from ledgerline import settings as env
from ledgerline.domain.tables import OUTGOING_EVENTS, Kind, of_kind

WRITES: Counter[str] = Counter()
CALLS: Counter[str] = Counter()
_real_call = botocore.client.BaseClient._make_api_call


CANCELED: list[str] = []


def _counting_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
    service = self.meta.service_model.service_name
    if service == "dynamodb" and operation == "TransactWriteItems":
        try:
            return _counted(self, service, operation, params)
        except botocore.exceptions.ClientError:
            CANCELED.append(operation)
            raise
    return _counted(self, service, operation, params)


IN_CALLS = [0.0]  # seconds spent inside AWS calls (moto), to tell the worker's own time apart


def _counted(self: Any, service: str, operation: str, params: dict[str, Any]) -> Any:
    started = time.perf_counter()
    try:
        return _counted_call(self, service, operation, params)
    finally:
        IN_CALLS[0] += time.perf_counter() - started


JOURNAL_WRITES: Counter[str] = Counter()  # the reports' items (journal, portfolio facts, client movements), apart
# T#{tenant}#{part}#...: `store.journal` (lines by valid and system time, totals, positions),
# `store.portfolio` (facts), `store.client_movements` (movements)
JOURNAL_PARTS = ("JV", "JS", "JT", "JP", "PF", "CM")


def _count_write(action: str, request: dict[str, Any]) -> None:
    key = request.get("Item") or request.get("Key") or {}
    parts = key.get("PK", {}).get("S", "").split("#")
    (JOURNAL_WRITES if len(parts) > 2 and parts[2] in JOURNAL_PARTS else WRITES)[action] += 1


def _counted_call(self: Any, service: str, operation: str, params: dict[str, Any]) -> Any:
    CALLS[f"{service}.{operation}"] += 1
    if service == "dynamodb" and operation == "TransactWriteItems":
        for item in params["TransactItems"]:
            [(action, request)] = item.items()
            _count_write(action, request)
    elif service == "dynamodb" and operation in ("PutItem", "UpdateItem", "DeleteItem"):
        _count_write(operation.removesuffix("Item"), params)
    elif service == "events" and operation == "PutEvents":
        WRITES["PutEvents entries"] += len(params["Entries"])
    return _real_call(self, operation, params)


botocore.client.BaseClient._make_api_call = _counting_call  # type: ignore[method-assign]

# Tables the worker writes: the derived ones and the log of published events.
DERIVED_TABLES = (*of_kind(Kind.DERIVED), OUTGOING_EVENTS)


def main(disbursements: int = 40) -> None:
    from moto import mock_aws

    from functions.worker.handler import handler
    from ledgerline import aws
    from ledgerline.domain.jsonio import dumps, loads
    from ledgerline.ingest import IngestRequest, ingest
    from ledgerline.settings import get_settings
    from ledgerline.store.schema import STREAM_BATCH_SIZE, create_tables
    from local.stream_pump import StreamPump
    from tests.builders import FakeLambdaContext, client, loan, operation, payment

    skip_moto_transaction_copy()
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        settings = get_settings()
        create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)
        aws.client("events").create_event_bus(Name="bench-bus")
        dlq = aws.client("sqs").create_queue(QueueName="bench-dlq")["QueueUrl"]
        os.environ[env.WORKER_DLQ_URL] = dlq
        get_settings.cache_clear()

        def send(body: dict[str, Any]) -> None:
            ingest(IngestRequest("bench", "key_bench", str(uuid.uuid4()), loads(dumps(body))))

        # Per disbursement: create, 6 installments (2 past due), 2 receipts, an extension with a
        # rebate, an operation with asset data: 12 source records.
        send(client())
        for n in range(disbursements):
            d = f"D{n}"
            send(loan(d))
            for i in range(1, 7):
                due = f"2025-0{i}-12" if i <= 2 else f"2099-0{i}-12"
                send(payment(f"{d}-P{i}", disbursement_id=d, installment_number=i, due_date=due))
            for i in (1, 2):
                send(payment(f"{d}-P{i}", "paid", disbursement_id=d, installment_number=i, due_date=f"2025-0{i}-12"))
            send(loan(d, step="update", maturity_date="2025-12-20", total_expected_margin=Decimal("1000"),
                      change_date="2025-02-01", change_reason="bench"))
            send(operation(f"{d}-O", disbursement_id=d, asset_id=f"A-{d}", asset_status="active",
                           asset_value=Decimal("5000")))

        pump = StreamPump(handler=handler, dynamodb=aws.dynamodb(), streams=aws.client("dynamodbstreams"),
                          sqs=aws.client("sqs"), table_name=settings.records_table, dlq_url=dlq,
                          context_factory=FakeLambdaContext)
        floor = median_seconds(lambda: aws.dynamodb().get_item(TableName=settings.records_table,
                                                        Key={"PK": {"S": "x"}, "SK": {"S": "v0"}}), 50)
        rounds = []
        WRITES.clear()
        JOURNAL_WRITES.clear()
        CALLS.clear()
        while True:
            records = pump.read()
            if not records:
                break
            started = time.perf_counter()
            IN_CALLS[0] = 0.0
            for start in range(0, len(records), STREAM_BATCH_SIZE):
                response = handler({"Records": records[start:start + STREAM_BATCH_SIZE]}, FakeLambdaContext())
                assert not response.get("batchItemFailures"), response
            rounds.append((len(records), time.perf_counter() - started, IN_CALLS[0]))
        worker_calls = Counter({k: v for k, v in CALLS.items() if not k.startswith("dynamodbstreams.")
                                and k != "dynamodb.DescribeTable"})
        derived = _derived_counts(aws.dynamodb(), settings.records_table)
        assert not CANCELED, "a transaction was cancelled: moto's rollback copy is off, the figures are void"

    sources, source_time, source_calls = rounds[0]
    event_rows = sum(n for n, _, _ in rounds[1:])
    event_rows_time = sum(t for _, t, _ in rounds[1:])
    versions = sum(derived.values())
    writes = sum(v for k, v in WRITES.items() if k != "PutEvents entries")
    print(f"{disbursements} disbursements, {sources} source stream records; moto floor (GetItem) "
          f"{floor * 1000:.2f} ms\n")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| source records per second (derive, write, publish inline) | {sources / source_time:.1f} |")
    print(f"| time per source record / floor | {source_time / sources / floor:.0f}x |")
    print(f"| worker's own time per source record (outside AWS calls) | "
          f"{(source_time - source_calls) / sources * 1000:.1f} ms |")
    print(f"| outgoing_events INSERT records per second (one PutEvents each) | "
          f"{event_rows / event_rows_time if event_rows_time else 0:.1f} |")
    print(f"| derived row versions written | {versions} ({', '.join(f'{k} {v}' for k, v in derived.items())}) |")
    print(f"| DynamoDB item writes | {writes} ({', '.join(f'{k} {v}' for k, v in sorted(WRITES.items()))}) |")
    print(f"| item writes per derived row version (its event's outgoing_events row included) | "
          f"{writes / (versions - derived['outgoing_events']):.2f} |")
    print(f"| item writes per derived row version, every row counted | {writes / versions:.2f} |")
    journal = sum(JOURNAL_WRITES.values())
    print(f"| reports' item writes (journal lines, totals, positions, portfolio facts, client movements: "
          f"docs/reports.md), per source record | "
          f"{journal / sources:.2f} ({', '.join(f'{k} {v}' for k, v in sorted(JOURNAL_WRITES.items()))}) |")
    calls = ", ".join(f"{k.split('.')[1]} {v / sources:.2f}" for k, v in sorted(worker_calls.items()))
    print(f"| worker API calls per source record | {sum(worker_calls.values()) / sources:.2f} ({calls}) |")


def _derived_counts(dynamodb: Any, table: str) -> Counter[str]:
    """Derived row versions stored: the version number of each row's current item (a statement
    of n versions), 1 for each row of a table whose rows never change."""
    found: Counter[str] = Counter()
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            parts = item["PK"]["S"].split("#")
            if len(parts) > 2 and parts[2] in DERIVED_TABLES and item["SK"]["S"] == "v0":
                found[parts[2]] += int(item["version"]["N"])
    return found


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
