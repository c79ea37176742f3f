"""The webhook delivery queue (SQS): one task per (subscription, event), retried by visibility.

EventBridge puts each outgoing event on the queue; the delivery function turns it into one
task message per subscribed webhook (`send_tasks`). A task that fails is hidden for its backoff
(`retry_later`: ChangeMessageVisibility, at most SQS's 12 h) and its receive count is the
attempt number; after the last attempt it goes to the dead-letter queue (`dead_letter`).
"""

from __future__ import annotations

from typing import Any

from ledgerline import aws
from ledgerline.domain.jsonio import dumps
from ledgerline.settings import get_settings

BATCH = 10  # SendMessageBatch takes at most 10 messages


def send_tasks(tasks: list[dict[str, Any]]) -> None:
    if not tasks:  # an event nobody subscribed to
        return
    queue = get_settings().need("webhook_queue_url")
    sqs = aws.client("sqs")
    for start in range(0, len(tasks), BATCH):
        chunk = tasks[start:start + BATCH]
        answer = sqs.send_message_batch(QueueUrl=queue, Entries=[
            {"Id": str(n), "MessageBody": dumps(task)} for n, task in enumerate(chunk)])
        if answer.get("Failed"):  # the event's message is retried whole; a repeated task is a repeated delivery
            raise RuntimeError(f"SQS refused {len(answer['Failed'])} webhook tasks: {answer['Failed'][0]}")


def retry_later(receipt_handle: str, seconds: int) -> None:
    aws.client("sqs").change_message_visibility(QueueUrl=get_settings().need("webhook_queue_url"),
                                                ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)


def dead_letter(task: dict[str, Any], reason: str, attempts: int) -> None:
    aws.client("sqs").send_message(QueueUrl=get_settings().need("webhook_dlq_url"),
                                   MessageBody=dumps({**task, "reason": reason, "attempts": attempts}))
