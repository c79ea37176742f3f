"""The local stack's stand-in for Lambda's DynamoDB Streams event source mapping.

Reads the moto table stream, applies `ledgerline.store.schema.STREAM_FILTERS` (the patterns the
deployed mapping uses), and invokes the real worker handler with Lambda-shaped batches:
partial batch responses, retries from the first failed record, bisection of a batch whose
invocation failed as a whole, and, once a record has used its retries, an on-failure message
to the dead-letter queue in the shape Lambda gives it. The worker itself sends a record that
keeps failing to the same queue with its reason before that happens (see ledgerline.worker).
Nothing one record does stops the others: a destination that refuses the on-failure message
drops the record (logged), as Lambda does, and a shard that cannot be read is retried next round.

moto quirks handled here: its stream records carry no `eventSourceARN`, a region of its own,
and `ApproximateCreationDateTime` as a datetime (Lambda hands a number of epoch seconds).

Also `python -m local.stream_pump sweep [--date YYYY-MM-DD] [--port N]`: runs the daily sweep
against a running local stack (`make sweep`), found through the state file it writes.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "layers" / "core" / "python") not in sys.path:
    sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]

from ledgerline import settings as env  # noqa: E402
from ledgerline.store.schema import STREAM_BATCH_SIZE, STREAM_FILTERS, STREAM_RETRY_ATTEMPTS  # noqa: E402

DLQ_NAME = "ledgerline-worker-dlq"
BUS_NAME = "ledgerline-events"
log = logging.getLogger("local.stream_pump")


# -- filter patterns ---------------------------------------------------------------------------


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Lambda event filtering, for the subset STREAM_FILTERS uses: nested objects and lists of
    exact values (a field matches when its value is one of them). Anything else is refused,
    so the local stack can never silently disagree with the deployed filter."""
    if not isinstance(event, dict):
        return False
    for key, rule in pattern.items():
        value = event.get(key)
        if isinstance(rule, dict):
            if not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if any(isinstance(option, (dict, list)) for option in rule):
                raise ValueError(f"filter operator not supported locally: {rule!r}")
            if isinstance(value, (dict, list)) or value not in rule:
                return False
        else:
            raise ValueError(f"a filter pattern leaf must be a list of values, got {rule!r}")
    return True


def passes(record: dict[str, Any], filters: tuple[dict[str, Any], ...] = STREAM_FILTERS) -> bool:
    return any(matches(pattern, record) for pattern in filters)


def _json_value(value: Any) -> str:
    """Binary attribute values in base64, as Lambda's event JSON holds them; anything else as text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def lambda_shaped(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A moto stream record as Lambda hands it to the function."""
    shaped = json.loads(json.dumps(record, default=_json_value))  # deep copy, datetimes out of the way
    stream = dict(shaped.get("dynamodb") or {})
    created = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    shaped["dynamodb"] = stream
    shaped["eventSourceARN"] = stream_arn
    shaped["awsRegion"] = region
    shaped.setdefault("eventSource", "aws:dynamodb")
    return shaped


# -- the pump ------------------------------------------------------------------------------------


@dataclass
class StreamPump:
    handler: Callable[[dict[str, Any], Any], Any]
    dynamodb: Any
    streams: Any
    sqs: Any
    table_name: str
    dlq_url: str | None
    region: str = "eu-west-1"
    batch_size: int = STREAM_BATCH_SIZE
    retry_attempts: int = STREAM_RETRY_ATTEMPTS
    poll_seconds: float = 0.1
    context_factory: Callable[[], Any] | None = None
    _iterators: dict[str, str | None] = field(default_factory=dict)
    _stream_arn: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    invocations: int = 0

    def stream_arn(self) -> str:
        if self._stream_arn is None:
            self._stream_arn = self.dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        return self._stream_arn

    def read(self) -> list[dict[str, Any]]:
        """New stream records of every shard, oldest first, Lambda-shaped and filtered."""
        arn = self.stream_arn()
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        found: list[dict[str, Any]] = []
        for shard in shards:
            try:
                found += self._read_shard(arn, shard["ShardId"])
            except Exception:  # one shard that cannot be read must not hold up the others
                log.exception("stream shard %s could not be read; retrying next round", shard["ShardId"])
        return found

    def _read_shard(self, arn: str, shard_id: str) -> list[dict[str, Any]]:
        if shard_id not in self._iterators:
            self._iterators[shard_id] = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        iterator = self._iterators[shard_id]
        found: list[dict[str, Any]] = []
        while iterator:
            response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            records = response.get("Records", [])
            found += [shaped for shaped in (lambda_shaped(r, arn, self.region) for r in records) if passes(shaped)]
            iterator = response.get("NextShardIterator")
            if len(records) < 1000:  # caught up with the shard
                break
        self._iterators[shard_id] = iterator
        return found

    def pump_once(self) -> int:
        """Deliver every new record to the worker; returns how many were delivered."""
        records = self.read()
        self.deliver(records)
        return len(records)

    def drain(self, rounds: int = 50) -> int:
        """Pump until the stream is quiet (the worker's outgoing_events rows are records too)."""
        total = 0
        for _ in range(rounds):
            delivered = self.pump_once()
            total += delivered
            if not delivered:
                return total
        raise RuntimeError(f"the stream did not settle after {rounds} rounds")

    def deliver(self, records: list[dict[str, Any]]) -> None:
        """What the event source mapping does with a shard's records, in order."""
        pending = list(records)
        size = self.batch_size
        attempts: dict[str, int] = {}
        while pending:
            batch = pending[:size]
            failed_at, error = self._invoke(batch)
            if failed_at is None:
                pending = pending[len(batch):]
                size = self.batch_size
                continue
            if error is not None and len(batch) > 1:  # bisect a batch whose invocation failed
                size = max(1, len(batch) // 2)
                continue
            pending = pending[failed_at:]
            first = pending[0]
            sequence = first["dynamodb"]["SequenceNumber"]
            attempts[sequence] = attempts.get(sequence, 0) + 1
            if attempts[sequence] > self.retry_attempts:
                self._on_failure(first, attempts[sequence], error)
                pending = pending[1:]
            size = min(size, len(pending)) or self.batch_size

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[int | None, str | None]:
        """(index of the first failed record or None, the invocation error if it failed whole)."""
        self.invocations += 1
        context = self.context_factory() if self.context_factory else None
        try:
            response = self.handler({"Records": batch}, context) or {}
        except Exception as error:  # the whole invocation failed (BatchProcessingError, crash)
            log.warning("worker invocation failed: %s", error)
            return 0, f"{type(error).__name__}: {error}"
        failures = {f["itemIdentifier"] for f in response.get("batchItemFailures") or []}
        for index, record in enumerate(batch):
            if record["dynamodb"]["SequenceNumber"] in failures:
                return index, None
        return None, None

    def _on_failure(self, record: dict[str, Any], invocations: int, error: str | None) -> None:
        """Lambda's on-failure destination message for a stream batch (metadata, not the record)."""
        message = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invocations,
                "functionArn": "arn:aws:lambda:local:000000000000:function:worker",
            },
            "responseContext": {"functionError": error or "Unhandled"} if error else {},
            "DDBStreamBatchInfo": {
                "shardId": "local",
                "startSequenceNumber": record["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": record["dynamodb"]["SequenceNumber"],
                "batchSize": 1,
                "streamArn": record["eventSourceARN"],
            },
        }
        log.error("record %s exhausted its retries", record["dynamodb"]["SequenceNumber"])
        if not self.dlq_url:
            return
        try:
            self.sqs.send_message(QueueUrl=self.dlq_url, MessageBody=json.dumps(message))
        except Exception:  # as Lambda does when the destination fails: the record is dropped, not retried forever
            log.exception("on-failure destination refused the message; record dropped: %s", json.dumps(message))

    # background thread ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stream-pump", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delivered = self.pump_once()
            except Exception:  # keep pumping: a moto hiccup must not end the local stack
                log.exception("stream pump round failed")
                delivered = 0
            if not delivered:
                self._stop.wait(self.poll_seconds)


# -- local stack wiring ----------------------------------------------------------------------------


def create_worker_resources(sqs: Any, events: Any) -> str:
    """The dead-letter queue and the event bus in moto; returns the queue URL."""
    events.create_event_bus(Name=BUS_NAME)
    return sqs.create_queue(QueueName=DLQ_NAME)["QueueUrl"]


def state_file(port: int) -> Path:
    return Path(tempfile.gettempdir()) / f"ledgerline-local-{port}.json"


def start_local(port: int, moto_port: int) -> tuple[StreamPump, Any]:
    """Create the bus, the DLQ and the webhook delivery queue, point the worker and the delivery
    function at them, start pumping both (python -m local)."""
    from ledgerline import aws
    from ledgerline.settings import get_settings
    from local.delivery_pump import DeliveryPump, create_delivery_resources
    from local.lambdas import LocalContext

    dlq_url = create_worker_resources(aws.client("sqs"), aws.client("events"))
    webhook_queue_url, webhook_dlq_url = create_delivery_resources(aws.client("sqs"), aws.client("events"), BUS_NAME)
    os.environ.update({env.EVENT_BUS: BUS_NAME, env.WORKER_DLQ_URL: dlq_url, env.WEBHOOK_QUEUE_URL: webhook_queue_url,
                       env.WEBHOOK_DLQ_URL: webhook_dlq_url})
    get_settings.cache_clear()
    settings = get_settings()
    from functions.webhook_delivery.handler import handler as delivery_handler
    from functions.worker.handler import handler

    pump = StreamPump(
        handler=handler, dynamodb=aws.client("dynamodb"), streams=aws.client("dynamodbstreams"),
        sqs=aws.client("sqs"), table_name=settings.records_table, dlq_url=dlq_url,
        region=os.environ.get("AWS_REGION", "eu-west-1"),
        context_factory=lambda: LocalContext("worker", timeout_seconds=300.0),
    )
    pump.start()
    deliveries = DeliveryPump(handler=delivery_handler, sqs=aws.client("sqs"), queue_url=webhook_queue_url,
                              context_factory=lambda: LocalContext("webhook_delivery", timeout_seconds=300.0))
    deliveries.start()
    state_file(port).write_text(json.dumps({
        "pid": os.getpid(), "port": port, "moto_port": moto_port, "records_table": settings.records_table,
        "idempotency_table": settings.idempotency_table, "event_bus": BUS_NAME, "dlq_url": dlq_url,
    }))
    return pump, deliveries


def stop_local(pumps: tuple[StreamPump, Any], port: int) -> None:
    for pump in pumps:
        pump.stop()
    state_file(port).unlink(missing_ok=True)


def run_sweep_against(port: int, day: str | None) -> dict[str, Any]:
    """Invoke the worker's sweep, in this process, against the local stack on `port`."""
    path = state_file(port)
    if not path.exists():
        raise SystemExit(f"no local stack on port {port} (start it with `make run`; {path} is missing)")
    state = json.loads(path.read_text())
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{state['moto_port']}",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        env.TABLE: state["records_table"], env.IDEMPOTENCY_TABLE: state["idempotency_table"],
        env.EVENT_BUS: state["event_bus"], env.WORKER_DLQ_URL: state["dlq_url"],
    })
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    import warnings

    from functions.worker.handler import handler
    from local.lambdas import LocalContext

    warnings.filterwarnings("ignore", message="No application metrics to publish")  # metrics are off locally
    event: dict[str, Any] = {"ledgerline": "sweep"}
    if day:
        event["date"] = day
    return handler(event, LocalContext("worker", timeout_seconds=300.0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.stream_pump")
    commands = parser.add_subparsers(dest="command", required=True)
    sweep = commands.add_parser("sweep", help="run the daily sweep against the running local stack")
    sweep.add_argument("--date", help="processing date YYYY-MM-DD (default: today, UTC)")
    sweep.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="the stack's API port")
    args = parser.parse_args(argv)
    if args.date:
        datetime.strptime(args.date, "%Y-%m-%d")  # refuse a malformed date before touching anything
    print(json.dumps(run_sweep_against(args.port, args.date)), flush=True)


if __name__ == "__main__":
    main()
