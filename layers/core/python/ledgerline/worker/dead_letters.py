"""Stream records the worker gave up on, sent to the dead-letter queue with their reason."""

from __future__ import annotations

from typing import Any

from ledgerline import aws
from ledgerline.domain.jsonio import dumps
from ledgerline.observability import count, logger
from ledgerline.settings import get_settings
from ledgerline.store.keys import system_time
from ledgerline.store.records import RECORD, from_attributes

_DEAD_LETTER_MAX_BYTES = 200_000  # SQS takes 256 KiB; the record is left out beyond this


def dead_letter(record: dict[str, Any], reason: str, attempts: int) -> None:
    queue_url = get_settings().worker_dlq_url
    if not queue_url:
        raise RuntimeError(f"no dead-letter queue configured for a record that failed {attempts} times: {reason}")
    stream = record.get("dynamodb") or {}
    # Only the item's identity is needed here; its record may be what could not be read.
    new = from_attributes({k: v for k, v in (stream.get("NewImage") or {}).items() if k != RECORD})
    body: dict[str, Any] = {
        "reason": reason[:4000],
        "attempts": attempts,
        "failed_at": system_time(),
        "source": {
            "event_id": record.get("eventID"),
            "event_name": record.get("eventName"),
            "sequence_number": stream.get("SequenceNumber"),
            "event_source_arn": record.get("eventSourceARN"),
            "keys": from_attributes(stream.get("Keys") or {}),
            "tenant": new.get("tenant"),
            "table": new.get("table"),
            "id": new.get("id") or new.get("event_id"),
            "version": new.get("version"),
        },
    }
    text = dumps({**body, "stream_record": record})
    if len(text.encode("utf-8")) > _DEAD_LETTER_MAX_BYTES:
        text = dumps({**body, "stream_record": None, "stream_record_omitted": "larger than a queue message"})
    aws.client("sqs").send_message(QueueUrl=queue_url, MessageBody=text, MessageAttributes={
        "reason": {"DataType": "String", "StringValue": reason[:256]},
    })
    count("DeadLettered")
    logger.error("stream record sent to the dead-letter queue", extra={"reason": reason[:500], **body["source"]})
