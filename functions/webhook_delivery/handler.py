"""Webhook delivery: messages of the delivery queue (SQS event source, partial batch responses).

A message is an outgoing event (from the EventBridge rule), fanned out into one task per
subscribed webhook (a batch looks each tenant's subscriptions up once), or a task, POSTed to
its webhook. A task that failed with time left is
reported failed after its visibility was set to the backoff (ledgerline.webhooks), so SQS hands
it back then, with its receive count as the attempt number.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerline import webhooks
from ledgerline.domain.jsonio import loads
from ledgerline.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(subscriptions: webhooks.Subscriptions) -> Callable[[SQSRecord], None]:
    """The handler of one batch's messages, sharing that batch's subscription lookups."""

    @tracer.capture_method
    def handle(record: SQSRecord) -> None:
        attributes = record.raw_event.get("attributes") or {}
        attempt = int(attributes.get("ApproximateReceiveCount", "1"))
        first_sent = int(attributes.get("SentTimestamp", str(int(time.time() * 1000)))) / 1000
        webhooks.handle_message(loads(record.body), record.receipt_handle, attempt,
                                max(0.0, time.time() - first_sent), subscriptions)

    return handle


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler(webhooks.once_per_tenant()),
                                    processor=processor, context=context)
