"""The local stack's stand-in for Lambda's SQS event source on the webhook delivery queue.

The deployed shape, in moto: an EventBridge rule sends every outgoing event of the bus to the
delivery queue; this pump receives its messages (with their receive count and sent time, as
Lambda hands them over), invokes the real delivery handler with a Lambda-shaped batch, and
deletes the messages it did not report failed. A failed one was hidden for its backoff by the
handler (ChangeMessageVisibility) and comes back then, as on AWS.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledgerline.events.outgoing import SOURCE

QUEUE_NAME = "ledgerline-webhook-deliveries"
DLQ_NAME = "ledgerline-webhook-dlq"
RULE_NAME = "ledgerline-webhooks"
VISIBILITY_SECONDS = 120  # longer than one batch's deliveries (10 tasks of at most the timeout each)
BATCH_SIZE = 10
log = logging.getLogger("local.delivery_pump")


def create_delivery_resources(sqs: Any, events: Any, bus_name: str) -> tuple[str, str]:
    """The delivery queue, its dead-letter queue and the rule feeding it; (queue URL, DLQ URL)."""
    queue_url = sqs.create_queue(QueueName=QUEUE_NAME, Attributes={
        "VisibilityTimeout": str(VISIBILITY_SECONDS), "MessageRetentionPeriod": str(4 * 86400)})["QueueUrl"]
    dlq_url = sqs.create_queue(QueueName=DLQ_NAME)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=RULE_NAME, EventBusName=bus_name, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule=RULE_NAME, EventBusName=bus_name, Targets=[{"Id": "deliveries", "Arn": queue_arn}])
    return queue_url, dlq_url


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A received SQS message as Lambda's SQS event source hands it to the function."""
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes") or {}, "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


@dataclass
class DeliveryPump:
    handler: Callable[[dict[str, Any], Any], Any]
    sqs: Any
    queue_url: str
    region: str = "eu-west-1"
    poll_seconds: float = 0.1
    context_factory: Callable[[], Any] | None = None
    _queue_arn: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def queue_arn(self) -> str:
        if self._queue_arn is None:
            self._queue_arn = self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return self._queue_arn

    def pump_once(self) -> int:
        """Receive one batch and hand it to the handler; how many messages it held."""
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=BATCH_SIZE,
                                            AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        records = [lambda_record(message, self.queue_arn(), self.region) for message in messages]
        context = self.context_factory() if self.context_factory else None
        try:
            response = self.handler({"Records": records}, context) or {}
        except Exception:  # the whole batch failed: every message comes back after its visibility
            log.exception("delivery invocation failed")
            return len(messages)
        failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures") or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
        return len(messages)

    def drain(self, rounds: int = 50) -> int:
        """Pump until nothing is visible on the queue (the fan-out queues tasks, which come next)."""
        total = 0
        for _ in range(rounds):
            received = self.pump_once()
            total += received
            if not received:
                return total
        raise RuntimeError(f"the delivery queue did not settle after {rounds} rounds")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="delivery-pump", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                received = self.pump_once()
            except Exception:  # keep pumping: a moto hiccup must not end the local stack
                log.exception("delivery pump round failed")
                received = 0
            if not received:
                self._stop.wait(self.poll_seconds)
