"""All-in cost per million ingested events, at list prices, from what the code really does.

A realistic mixed book runs over moto through the real handlers: clients; loans and purchases
with their installment schedules; receipts; changes (client updates, extensions, rebates,
write-offs, goods status); operations with and without asset data; a few replays of stored
events. Every event goes through the ingest handler; the table's stream is then read the way
the local stack's pump reads it (the deployed filter) and handed to the real worker handler in
batches; the daily sweep runs over the schedule's due days; the authorizer runs on a sample
of cache misses; the webhook delivery queue (the bus rule puts every published event on it) is
handed to the real delivery function in Lambda's batches of 10.

Every AWS call is metered as it happens:
- DynamoDB write units per item, by logical table (the `{table}` of `T#{tenant}#{table}#{id}`)
  and by index: the larger of the item before and after, rounded up to 1 KB; transactional
  items (condition checks included) count twice; each index copy counts once, twice when its
  sort key moves (a delete and a put), nothing when the item is not on that index;
- DynamoDB read units: 4 KB per item for GetItem and BatchGetItem, 4 KB per Query call summed
  over every item it evaluated (filters and projections do not lower it); eventually
  consistent reads (every index read) half;
- EventBridge PutEvents entries (64 KB chunks), stream records delivered to the worker (free:
  Lambda's stream polling is not billed), SQS requests (the delivery queue's sends, receives
  and deletes; dead letters);
- X-Ray traces: the stage's sampling rule's share of requests; beside the figure, what the
  default sampling (the first each second, then 5 %) would trace at the month's volume;
- Lambda: invocations per function, and a duration per invocation built from the function's
  own CPU time, measured here and scaled to its memory's CPU share, plus an assumed AWS latency
  per call it makes (below);
- CloudWatch Logs: the bytes the functions really log (JSON lines, metrics in EMF), plus
  Lambda's platform lines per invocation and one API access-log line per request;
- storage: the bytes left in the table (items, index copies, DynamoDB's 100 bytes of overhead
  each), priced for one month, point-in-time recovery included.

The figures are per ingested event (replays included), then per million. Assumptions that no
measurement over moto can give — network latencies, the authorizer cache hit rate, the worker's
batch size on AWS, the monthly volume that the fixed hourly sweep is spread over — are
constants below, printed with the result. Prices: on-demand list prices, us-east-1.

Run: `python -m bench.cost` (about a minute or two). The last line is the all-in figure.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import bench.common  # noqa: F401  (sets sys.path and the environment)

# Deployed log level and metrics on, so the log bytes are those AWS would ingest.
os.environ.update({"POWERTOOLS_LOG_LEVEL": "INFO", "POWERTOOLS_METRICS_DISABLED": "false",
                   "POWERTOOLS_METRICS_NAMESPACE": "Ledgerline"})

import botocore.client  # noqa: E402
import botocore.exceptions  # noqa: E402

from bench.units import FOUR_KB, KB, index_copy_size, index_writes, item_size, units  # noqa: E402
from infra.sizing import FUNCTION_MEMORY_MB  # noqa: E402

# List prices, USD (us-east-1, on-demand).
PRICE_WRU = 0.625 / 1e6
PRICE_RRU = 0.125 / 1e6
PRICE_API_REQUEST = 3.50 / 1e6  # REST API, first 333 million per month
PRICE_LAMBDA_REQUEST = 0.20 / 1e6
PRICE_LAMBDA_GB_SECOND = 0.0000133334  # arm64
PRICE_EVENTS_ENTRY = 1.00 / 1e6  # EventBridge custom events, per 64 KB chunk
PRICE_SQS_REQUEST = 0.40 / 1e6
PRICE_LOG_GB = 0.50  # CloudWatch Logs ingestion
PRICE_STORAGE_GB_MONTH = 0.25  # DynamoDB standard table class
PRICE_PITR_GB_MONTH = 0.20  # continuous backups
PRICE_XRAY_TRACE = 5.00 / 1e6

# Assumptions (what moto cannot measure).
CALL_LATENCY_MS = {  # warm Lambda to a service in the same region
    "dynamodb.GetItem": 5, "dynamodb.PutItem": 6, "dynamodb.UpdateItem": 6, "dynamodb.DeleteItem": 6,
    "dynamodb.BatchGetItem": 8, "dynamodb.Query": 8, "dynamodb.TransactWriteItems": 15,
    "events.PutEvents": 20, "sqs.SendMessage": 15,
}
OTHER_CALL_MS = 10
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below
AUTHORIZER_CACHE_HIT_RATE = 0.99  # 300 s cache per key: a key sending a few events a second misses ~1 in 1,000
WORKER_RECORDS_PER_BATCH = 10  # stream records per worker invocation on AWS (light traffic: small batches)
MONTHLY_EVENTS = 3_000_000  # the hourly sweep's fixed cost is spread over this volume
SWEEP_RUNS_PER_MONTH = 24 * 30
PLATFORM_LOG_BYTES = 700  # Lambda's JSON platform.start and platform.report lines per invocation
# X-Ray: the stage's sampling rule traces 5 % of requests with no per-second reservoir
# (infra/config.py `trace_percent`), the functions it invokes follow; the worker and the
# delivery function, which no request starts, do not trace (`trace_background` off).
XRAY_SAMPLED = 0.05
XRAY_RESERVOIR_PER_SECOND = 1  # the account's default rule, and Lambda's own sampling: the first each second...
XRAY_DEFAULT_RATE = 0.05  # ...then 5 % of the rest
SECONDS_PER_MONTH = 30 * 24 * 3600
ITEM_OVERHEAD_BYTES = 100  # DynamoDB storage overhead per item and per index copy



# -- the meter ------------------------------------------------------------------------------


@dataclass
class Usage:
    """What one function consumed while the meter ran."""

    invocations: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    wru: Counter[tuple[str, str]] = field(default_factory=Counter)  # (logical table, base table or index)
    rru: Counter[tuple[str, str]] = field(default_factory=Counter)
    events_entries: int = 0
    sqs_messages: int = 0
    own_cpu_seconds: float = 0.0
    log_bytes: int = 0
    stream_records: int = 0

    def latency_seconds(self) -> float:
        return sum(CALL_LATENCY_MS.get(call, OTHER_CALL_MS) * n for call, n in self.calls.items()) / 1000


_real_call = botocore.client.BaseClient._make_api_call


class Meter:
    """Wraps every botocore call: counts it and sizes what it read and wrote, for `current`."""

    def __init__(self, records_table: str, idempotency_table: str, indexes: tuple[Any, ...]) -> None:
        self.records_table, self.idempotency_table, self.indexes = records_table, idempotency_table, indexes
        self.usage: dict[str, Usage] = {}
        self.current: str | None = None
        self.cpu_in_calls = 0.0

    @contextlib.contextmanager
    def running(self, function: str) -> Iterator[Usage]:
        """Meter one invocation of `function`: its calls, its own CPU time and its log bytes."""
        usage = self.usage.setdefault(function, Usage())
        self.current, self.cpu_in_calls = function, 0.0
        logs = _CountingStream()
        previous_stream = _log_handler().stream
        _log_handler().setStream(logs)
        started = time.process_time()
        try:
            with contextlib.redirect_stdout(logs):
                yield usage
        finally:
            usage.own_cpu_seconds += time.process_time() - started - self.cpu_in_calls
            usage.invocations += 1
            usage.log_bytes += logs.bytes
            _log_handler().setStream(previous_stream)
            self.current = None

    def call(self, client: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.current is None:
            return _real_call(client, operation, params)
        started = time.process_time()
        try:
            return self._metered(client, operation, params, self.usage[self.current])
        finally:
            self.cpu_in_calls += time.process_time() - started

    def _metered(self, client: Any, operation: str, params: dict[str, Any], usage: Usage) -> Any:
        service = client.meta.service_model.service_name
        usage.calls[f"{service}.{operation}"] += 1
        if service == "events" and operation == "PutEvents":
            usage.events_entries += sum(units(len(e.get("Detail", "")) + 100, 64 * KB) for e in params["Entries"])
        if service == "sqs" and operation == "SendMessage":
            usage.sqs_messages += 1
        if service != "dynamodb":
            return _real_call(client, operation, params)
        if operation == "TransactWriteItems":
            actions = [(next(iter(a)), next(iter(a.values()))) for a in params["TransactItems"]]
            return self._writes(client, operation, params, usage, actions, transactional=True)
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return self._writes(client, operation, params, usage, [(operation.removesuffix("Item"), params)], False)
        response = _real_call(client, operation, params)
        if operation == "GetItem":
            self._read_keys(client, usage, params["TableName"], [params["Key"]], params.get("ConsistentRead", False))
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                self._read_keys(client, usage, table, request["Keys"], request.get("ConsistentRead", False))
        elif operation == "Query":
            self._query(client, usage, params, response)
        return response

    # writes

    def _key_of(self, table: str, action: str, request: dict[str, Any]) -> dict[str, Any]:
        names = ("id",) if table == self.idempotency_table else ("PK", "SK")
        source = request["Item"] if action == "Put" else request["Key"]
        return {name: source[name] for name in names}

    def _get(self, client: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return _real_call(client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}).get("Item")

    def _writes(self, client: Any, operation: str, params: dict[str, Any], usage: Usage,
                actions: list[tuple[str, dict[str, Any]]], transactional: bool) -> Any:
        keyed = [(action, request["TableName"] if transactional else params["TableName"], request)
                 for action, request in actions]
        targets = [(action, table, self._key_of(table, action, request), request) for action, table, request in keyed]
        before = [self._get(client, table, key) for _, table, key, _ in targets]
        factor = 2 if transactional else 1
        try:
            response = _real_call(client, operation, params)
        except botocore.exceptions.ClientError:
            # A refused condition (or a cancelled transaction) still consumes the write units.
            for (action, table, key, request), old in zip(targets, before, strict=True):
                sent = request.get("Item") if action == "Put" else None
                usage.wru[(self._label(table, key), "table")] += factor * units(max(item_size(old), item_size(sent)), KB)
            raise
        for (action, table, key, _), old in zip(targets, before, strict=True):
            label = self._label(table, key)
            if action == "ConditionCheck":
                usage.wru[(label, "table")] += factor * units(item_size(old), KB)
                continue
            new = self._get(client, table, key)
            usage.wru[(label, "table")] += factor * units(max(item_size(old), item_size(new)), KB)
            if table == self.records_table:
                for index in self.indexes:
                    written = index_writes(index, old, new)
                    if written:
                        usage.wru[(label, index.name)] += written
        return response

    # reads

    def _read_keys(self, client: Any, usage: Usage, table: str, keys: list[dict[str, Any]], consistent: bool) -> None:
        for key in keys:
            found = self._get(client, table, key)
            usage.rru[(self._label(table, key), "table")] += units(item_size(found), FOUR_KB) * (1 if consistent else 0.5)

    def _query(self, client: Any, usage: Usage, params: dict[str, Any], response: dict[str, Any]) -> None:
        evaluated = response["Items"]
        if "FilterExpression" in params or "ProjectionExpression" in params:
            plain = {k: v for k, v in params.items() if k not in ("FilterExpression", "ProjectionExpression")}
            names = plain.get("ExpressionAttributeNames", {})
            used = {name for name in names if name in plain["KeyConditionExpression"]}
            plain["ExpressionAttributeNames"] = {k: v for k, v in names.items() if k in used}
            values = plain.get("ExpressionAttributeValues", {})
            plain["ExpressionAttributeValues"] = {k: v for k, v in values.items() if k in plain["KeyConditionExpression"]}
            if not plain["ExpressionAttributeNames"]:
                del plain["ExpressionAttributeNames"]
            evaluated = _real_call(client, "Query", plain)["Items"]
        index = params.get("IndexName", "table")
        label = self._label(params["TableName"], {"PK": evaluated[0]["PK"]}) if evaluated else "(empty query)"
        consistent = params.get("ConsistentRead", False) and index == "table"
        usage.rru[(label, index)] += units(sum(item_size(i) for i in evaluated), FOUR_KB) * (1 if consistent else 0.5)

    def _label(self, table: str, key: dict[str, Any]) -> str:
        if table == self.idempotency_table:
            return "worker attempt counters" if key["id"]["S"].startswith("worker#") else "idempotency (Powertools)"
        pk = key["PK"]["S"]
        if pk.startswith("T#"):
            return pk.split("#")[2]
        return {"DUE": "sweep due queue", "SWEEP": "sweep watermark", "K": "api keys"}.get(pk.split("#")[0], pk)


class _CountingStream(io.TextIOBase):
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        return len(text)


def _log_handler() -> Any:
    from ledgerline.observability import logger

    return logger.registered_handler


# -- the workload ---------------------------------------------------------------------------


def workload(loans: int, purchases: int) -> list[dict[str, Any]]:
    """The book, in the order a partner would send it."""
    from tests.builders import client, loan, operation, payment, purchase

    clients = max(2, (loans + purchases) // 2)
    events = [client(f"C{n}") for n in range(clients)]
    for n in range(loans):
        d = f"L{n}"
        events.append(loan(d, client_id=f"C{n % clients}"))
        for i in range(1, 7):
            due = f"2025-0{i}-12" if i <= 3 else f"2099-0{i}-12"
            events.append(payment(f"{d}-P{i}", disbursement_id=d, installment_number=i, due_date=due))
        for i in (1, 2):  # receipts
            events.append(payment(f"{d}-P{i}", "paid", disbursement_id=d, installment_number=i,
                                  due_date=f"2025-0{i}-12", payment_date=f"2025-0{i}-10"))
        if n % 2 == 0:  # an extension with a rebate
            events.append(loan(d, step="update", maturity_date="2025-12-20", total_expected_margin=Decimal("1000"),
                               change_date="2025-02-01", change_reason="hardship plan"))
        if n % 4 == 1:  # a partial write-off
            events.append(loan(d, step="update", disbursement_amount=Decimal("8000"), change_date="2025-03-01",
                               change_reason="settlement"))
        events.append(operation(f"{d}-O1", disbursement_id=d))  # revenue, no asset
        if n % 2 == 1:
            events.append(operation(f"{d}-O2", disbursement_id=d, asset_id=f"A-{d}", asset_status="active",
                                    asset_value=Decimal("5000")))
    for n in range(purchases):
        d = f"B{n}"
        events.append(purchase(d, purchase_clients=[{"client_id": f"C{n % clients}", "share": Decimal("1")}]))
        for i in range(1, 4):
            due = f"2025-0{i}-12" if i == 1 else f"2099-0{i}-12"
            events.append(payment(f"{d}-P{i}", disbursement_id=d, client_id=f"C{n % clients}",
                                  installment_number=i, due_date=due, amount=Decimal("1800")))
        events.append(payment(f"{d}-P1", "paid", disbursement_id=d, client_id=f"C{n % clients}",
                              installment_number=1, due_date="2025-01-12", amount=Decimal("1800"),
                              payment_date="2025-01-11"))
        events.append(purchase(d, step="update", goods_status="delivered"))
    events += [client(f"C{n}", step="update", name="Ada King") for n in range(0, clients, 3)]
    return events


# -- the run --------------------------------------------------------------------------------


def main(loans: int = 8, purchases: int = 4) -> None:
    from moto import mock_aws

    import functions.authorizer.handler as authorizer_handler
    import functions.ingest.handler as ingest_handler
    import functions.webhook_delivery.handler as delivery_handler
    import functions.worker.handler as worker_handler
    from bench.common import skip_moto_transaction_copy
    from ledgerline import aws
    from ledgerline.api import ingest_routes
    from ledgerline.settings import get_settings
    from ledgerline.store import apikeys
    from ledgerline.store.schema import INDEXES, STREAM_BATCH_SIZE, create_tables
    from local.delivery_pump import create_delivery_resources
    from local.stream_pump import StreamPump
    from tests.builders import FakeLambdaContext, api_event

    skip_moto_transaction_copy()
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        ingest_routes._idempotent_ingest.cache_clear()
        settings = get_settings()
        create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)
        aws.client("events").create_event_bus(Name=settings.event_bus_name)
        dlq = aws.client("sqs").create_queue(QueueName="cost-dlq")["QueueUrl"]
        # the webhook path: the bus rule sending every outgoing event to the delivery queue
        deliveries, _ = create_delivery_resources(aws.client("sqs"), aws.client("events"), settings.event_bus_name)
        os.environ.update({"LEDGERLINE_WORKER_DLQ_URL": dlq, "LEDGERLINE_WEBHOOK_QUEUE_URL": deliveries})
        get_settings.cache_clear()
        clear_key, _ = apikeys.create_key("t1", description="cost bench")

        meter = Meter(settings.records_table, settings.idempotency_table, INDEXES)
        botocore.client.BaseClient._make_api_call = lambda self, op, params: meter.call(self, op, params)
        baseline = _stored_bytes(aws.dynamodb(), settings.records_table)

        # ingest: every event, then a few replays of stored ones (the same Idempotency-Key)
        sent: list[tuple[dict[str, Any], str]] = []
        for body in workload(loans, purchases):
            key = str(uuid.uuid4())
            sent.append((body, key))
            with meter.running("ingest"):
                answer = ingest_handler.handler(
                    api_event("POST", "/ingest", body=body, headers={"Idempotency-Key": key}), FakeLambdaContext())
            assert answer["statusCode"] == 200, answer
        for body, key in sent[::25]:
            with meter.running("ingest"):
                answer = ingest_handler.handler(
                    api_event("POST", "/ingest", body=body, headers={"Idempotency-Key": key}), FakeLambdaContext())
            assert answer["statusCode"] == 200, answer
        requests = meter.usage["ingest"].invocations

        # authorizer: a sample of cache misses (its per-event share comes from the hit rate)
        for _ in range(20):
            with meter.running("authorizer"):
                authorizer_handler.handler(_authorizer_event(clear_key), FakeLambdaContext())

        # worker: the stream as the event source mapping delivers it, until it is quiet
        pump = StreamPump(handler=worker_handler.handler, dynamodb=aws.dynamodb(),
                          streams=aws.client("dynamodbstreams"), sqs=aws.client("sqs"),
                          table_name=settings.records_table, dlq_url=dlq, context_factory=FakeLambdaContext)

        def drain() -> None:
            while records := pump.read():
                for start in range(0, len(records), STREAM_BATCH_SIZE):
                    batch = records[start:start + STREAM_BATCH_SIZE]
                    with meter.running("worker") as usage:
                        response = worker_handler.handler({"Records": batch}, FakeLambdaContext())
                        usage.stream_records += len(batch)
                    assert not response.get("batchItemFailures"), response

        drain()
        # the daily sweep on each due day of the schedule that has passed (overdue without a new
        # event), then what it published; and one hourly run that finds nothing, the cost of
        # each of the others
        for due in ("2025-01-12", "2025-02-12", "2025-03-12"):
            after = f"{due[:8]}{int(due[8:]) + 1}"
            with meter.running("sweep (due days)"):
                worker_handler.handler({"ledgerline": "sweep", "date": after, "since": due}, FakeLambdaContext())
            drain()
        with meter.running("sweep (hourly run)"):
            worker_handler.handler({"ledgerline": "sweep", "date": "2025-03-20"}, FakeLambdaContext())
        # webhook delivery: every published event reaches the delivery function, which looks up
        # the tenant's subscriptions (this book's tenant has none: the path's fixed cost)
        sqs_requests = _deliver(meter, aws.client("sqs"), deliveries, delivery_handler.handler)
        botocore.client.BaseClient._make_api_call = _real_call
        stored = _stored_bytes(aws.dynamodb(), settings.records_table) - baseline
        access_line = len(_access_log_line().encode()) + 1

    report(meter.usage, requests, stored, access_line, len(sent), sqs_requests)


def _deliver(meter: Meter, sqs: Any, queue_url: str, handler: Any) -> int:
    """Hand the delivery queue to the delivery function the way Lambda's SQS event source does
    (batches of 10, deletes of what succeeded); the SQS requests that took: the rule's send of
    each message, a receive and a delete per batch (the event source's empty long polls are a
    fixed cost a month, not per event)."""
    from local.delivery_pump import BATCH_SIZE, lambda_record
    from tests.builders import FakeLambdaContext

    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    requests = 0
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=BATCH_SIZE,
                                          AttributeNames=["All"]).get("Messages", []):
        with meter.running("webhook_delivery"):
            response = handler({"Records": [lambda_record(m, arn, "eu-west-1") for m in messages]},
                               FakeLambdaContext())
        assert not response.get("batchItemFailures"), response
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])
        requests += len(messages) + 2
    return requests


def _authorizer_event(clear_key: str) -> dict[str, Any]:
    arn = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/POST/ingest"
    return {"type": "REQUEST", "methodArn": arn, "resource": "/ingest", "path": "/ingest", "httpMethod": "POST",
            "headers": {"Authorization": f"Bearer {clear_key}"}, "queryStringParameters": None,
            "pathParameters": None, "stageVariables": None,
            "requestContext": {"requestId": str(uuid.uuid4()), "stage": "prod", "resourcePath": "/ingest"}}


def _access_log_line() -> str:
    """One access-log line in the stage's format (infra/api.py, read without loading the CDK)."""
    import ast
    import json

    source = (bench.common.ROOT / "infra" / "api.py").read_text(encoding="utf-8")
    node = next(n for n in ast.parse(source).body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "ACCESS_LOG_FIELDS")
    fields = ast.literal_eval(node.value)

    sample = {"requestId": str(uuid.uuid4()), "requestTime": "1764400000000", "ip": "203.0.113.10",
              "userAgent": "python-requests/2.32.3", "method": "POST", "resource": "/ingest", "path": "/prod/ingest",
              "status": "200", "responseLength": "180", "latencyMs": "61", "integrationLatencyMs": "55",
              "integrationStatus": "200", "errorType": "-", "errorMessage": "-", "authorizerStatus": "-",
              "authorizerLatencyMs": "-", "tenantId": "acme", "keyId": "key_0123456789ab",
              "usagePlanKeyId": "a1b2c3d4e5", "xrayTraceId": "Root=1-67891234-abcdef0123456789abcdef01"}
    return json.dumps({name: sample.get(name, "-") for name in fields})


def _stored_bytes(dynamodb: Any, table: str) -> int:
    """Bytes the table stores: every item and every index copy, with DynamoDB's overhead."""
    from ledgerline.store.schema import INDEXES

    total = 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            total += item_size(item) + ITEM_OVERHEAD_BYTES + sum(
                index_copy_size(index, item) + ITEM_OVERHEAD_BYTES for index in INDEXES if index.partition_key in item)
    return total


# -- the report -----------------------------------------------------------------------------


def lambda_dollars(function: str, usage: Usage, invocations: float) -> tuple[float, float]:
    """(duration seconds per invocation, $ for `invocations` of them) at the function's memory."""
    memory = FUNCTION_MEMORY_MB[function.split(" ")[0]]
    share = min(1.0, memory / FULL_VCPU_MB)
    seconds = (usage.own_cpu_seconds / share + usage.latency_seconds()) / max(usage.invocations, 1)
    billed = math.ceil(seconds * 1000) / 1000
    return seconds, invocations * (PRICE_LAMBDA_REQUEST + billed * memory / 1024 * PRICE_LAMBDA_GB_SECOND)


def report(usage: dict[str, Usage], requests: int, stored_bytes: int, access_line: int, events: int,
           sqs_requests: int) -> None:
    per_million = 1e6 / requests
    rows: list[tuple[str, str, float]] = []  # (line, per event, $ per million events)

    def add(line: str, quantity: float, unit: str, dollars: float) -> None:
        rows.append((line, f"{quantity:.3f} {unit}", dollars))

    add("API Gateway REST requests", 1, "request", PRICE_API_REQUEST * 1e6)
    ingest = usage["ingest"]
    seconds, dollars = lambda_dollars("ingest", ingest, ingest.invocations)
    add(f"Lambda ingest ({FUNCTION_MEMORY_MB['ingest']} MB, {seconds * 1000:.0f} ms)", 1, "invocation",
        dollars * per_million)
    auth = usage["authorizer"]
    auth_invocations = requests * (1 - AUTHORIZER_CACHE_HIT_RATE)
    seconds, dollars = lambda_dollars("authorizer", auth, auth_invocations)
    add(f"Lambda authorizer ({FUNCTION_MEMORY_MB['authorizer']} MB, {seconds * 1000:.0f} ms, "
        f"{AUTHORIZER_CACHE_HIT_RATE:.0%} cache hits)", auth_invocations / requests, "invocation",
        dollars * per_million)
    worker = usage["worker"]
    delivered = worker.stream_records
    worker_invocations = delivered / WORKER_RECORDS_PER_BATCH
    per_record = (worker.own_cpu_seconds / min(1.0, FUNCTION_MEMORY_MB["worker"] / FULL_VCPU_MB)
                  + worker.latency_seconds()) / max(delivered, 1)
    batch_seconds = math.ceil(per_record * WORKER_RECORDS_PER_BATCH * 1000) / 1000
    worker_dollars = worker_invocations * (PRICE_LAMBDA_REQUEST + batch_seconds * FUNCTION_MEMORY_MB["worker"] / 1024
                                           * PRICE_LAMBDA_GB_SECOND)
    add(f"Lambda worker ({FUNCTION_MEMORY_MB['worker']} MB, {WORKER_RECORDS_PER_BATCH} records a batch, "
        f"{per_record * 1000:.0f} ms a record)", worker_invocations / requests, "invocation",
        worker_dollars * per_million)
    add("stream records read by the worker (free for Lambda triggers)", delivered / requests, "record", 0.0)
    due = usage["sweep (due days)"]
    hourly = usage["sweep (hourly run)"]
    _, due_dollars = lambda_dollars("worker", due, due.invocations)
    _, hourly_dollars = lambda_dollars("worker", hourly, SWEEP_RUNS_PER_MONTH)
    hourly_share = requests / MONTHLY_EVENTS
    add(f"Lambda sweep (due days, and {SWEEP_RUNS_PER_MONTH} hourly runs a month over "
        f"{MONTHLY_EVENTS / 1e6:.0f} M events)", (due.invocations + SWEEP_RUNS_PER_MONTH * hourly_share) / requests,
        "invocation", (due_dollars + hourly_dollars * hourly_share) * per_million)

    delivery = usage["webhook_delivery"]
    seconds, dollars = lambda_dollars("webhook_delivery", delivery, delivery.invocations)
    add(f"Lambda webhook delivery ({FUNCTION_MEMORY_MB['webhook_delivery']} MB, {seconds * 1000:.0f} ms a batch "
        "of 10 events, no subscription)", delivery.invocations / requests, "invocation", dollars * per_million)

    # DynamoDB: hourly sweep runs scaled to their share of the month, the rest as measured
    scale = {name: 1.0 for name in usage} | {"sweep (hourly run)": SWEEP_RUNS_PER_MONTH * hourly_share,
                                             "authorizer": auth_invocations / max(auth.invocations, 1)}
    wru: Counter[tuple[str, str]] = Counter()
    rru: Counter[tuple[str, str]] = Counter()
    for name, used in usage.items():
        factor = scale[name]
        for key, value in used.wru.items():
            wru[key] += value * factor
        for key, value in used.rru.items():
            rru[key] += value * factor
    for (table, place), value in sorted(wru.items(), key=lambda kv: -kv[1]):
        where = "" if place == "table" else f" {place}"
        add(f"DynamoDB writes: {table}{where}", value / requests, "WRU", value * PRICE_WRU * per_million)
    for (table, place), value in sorted(rru.items(), key=lambda kv: -kv[1]):
        where = "" if place == "table" else f" {place}"
        add(f"DynamoDB reads: {table}{where}", value / requests, "RRU", value * PRICE_RRU * per_million)

    entries = sum(u.events_entries for u in usage.values())
    add("EventBridge PutEvents entries", entries / requests, "entry", entries * PRICE_EVENTS_ENTRY * per_million)
    add("SQS requests (webhook delivery queue: the rule's sends, the event source's receives and deletes)",
        sqs_requests / requests, "request", sqs_requests * PRICE_SQS_REQUEST * per_million)
    messages = sum(u.sqs_messages for u in usage.values())
    if messages:
        add("SQS dead-letter messages", messages / requests, "message", messages * PRICE_SQS_REQUEST * per_million)
    invocations = (requests + auth_invocations + worker_invocations + due.invocations
                   + SWEEP_RUNS_PER_MONTH * hourly_share + delivery.invocations)
    function_bytes = (ingest.log_bytes + worker.log_bytes + due.log_bytes + delivery.log_bytes
                      + hourly.log_bytes * SWEEP_RUNS_PER_MONTH * hourly_share
                      + auth.log_bytes / max(auth.invocations, 1) * auth_invocations)
    log_bytes = function_bytes + invocations * PLATFORM_LOG_BYTES + requests * access_line
    add("CloudWatch Logs (functions, platform lines, API access log)", log_bytes / requests, "bytes",
        log_bytes / 1e9 * PRICE_LOG_GB * per_million)
    add(f"X-Ray traces ({XRAY_SAMPLED:.0%} of requests)", XRAY_SAMPLED, "trace", XRAY_SAMPLED * PRICE_XRAY_TRACE * 1e6)
    storage = stored_bytes / requests  # bytes a month, for every month the data is kept
    # What the default sampling would trace instead, at the month's volume: the first request
    # each second and 5 % of the rest, for the API and for each function no request starts.
    per_second = MONTHLY_EVENTS / SECONDS_PER_MONTH
    starts = [per_second] + [per_second * n / requests for n in (worker_invocations, delivery.invocations)]
    default_traces = sum(min(rate, XRAY_RESERVOIR_PER_SECOND)
                         + XRAY_DEFAULT_RATE * max(0.0, rate - XRAY_RESERVOIR_PER_SECOND) for rate in starts) / per_second

    dynamo = sum(d for line, _, d in rows if line.startswith("DynamoDB"))
    print("| function | own CPU per invocation (measured) | AWS calls per invocation | memory | "
          "duration per invocation (assumed latencies) |")
    print("| --- | --- | --- | --- | --- |")
    for name in ("authorizer", "ingest", "worker"):
        used = usage[name]
        per = max(used.invocations, 1) if name != "worker" else max(used.stream_records, 1) / WORKER_RECORDS_PER_BATCH
        seconds = (used.own_cpu_seconds / min(1.0, FUNCTION_MEMORY_MB[name] / FULL_VCPU_MB)
                   + used.latency_seconds()) / per
        print(f"| {name}{' (a batch of ' + str(WORKER_RECORDS_PER_BATCH) + ' records)' if name == 'worker' else ''} "
              f"| {used.own_cpu_seconds / per * 1000:.1f} ms | {sum(used.calls.values()) / per:.1f} "
              f"| {FUNCTION_MEMORY_MB[name]} MB | {seconds * 1000:.0f} ms |")
    print()
    print(f"{events} events and {requests - events} replays ingested; {delivered} stream records delivered to "
          f"the worker; prices us-east-1 on demand; per ingested event and per million.\n")
    print("| item | per event | $ per million events |")
    print("| --- | --- | --- |")
    for line, quantity, dollars in rows:
        print(f"| {line} | {quantity} | {dollars:.2f} |")
    print(f"| DynamoDB subtotal | | {dynamo:.2f} |")
    print(f"| storage (table, indexes, point-in-time recovery): recurring, not in the all-in figure | "
          f"{storage:.0f} bytes | {storage * 1e6 / 1e9 * (PRICE_STORAGE_GB_MONTH + PRICE_PITR_GB_MONTH):.2f} "
          f"a month, every month kept ({storage * 1e6 / 1e9:.2f} GB) |")
    print(f"| X-Ray under the default sampling instead (1 a second, then 5 %, at {MONTHLY_EVENTS / 1e6:.0f} M "
          f"events a month; the worker and delivery traced): not in the all-in figure | {default_traces:.3f} trace | "
          f"{default_traces * PRICE_XRAY_TRACE * 1e6:.2f} |")
    print()
    print(f"all-in: ${sum(d for _, _, d in rows):.2f} per million events")

if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    main(*arguments)

