"""Deliveries of a failing stream record, counted in the idempotency table (expire after 2 days)."""

from __future__ import annotations

import time

from ledgerline import aws
from ledgerline.settings import get_settings

ATTEMPTS_TTL_SECONDS = 2 * 86_400



def _attempts_key(stream_event_id: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": f"worker#attempts#{stream_event_id}"}}


def count_failure(stream_event_id: str, reason: str) -> int:
    """Count one more failed delivery of a stream record; returns the count so far."""
    response = aws.dynamodb().update_item(
        TableName=get_settings().need("idempotency_table"),
        Key=_attempts_key(stream_event_id),
        UpdateExpression="ADD #n :one SET #ttl = :ttl, #reason = :reason",
        ExpressionAttributeNames={"#n": "attempts", "#ttl": "expiration", "#reason": "last_reason"},
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":ttl": {"N": str(int(time.time()) + ATTEMPTS_TTL_SECONDS)},
            ":reason": {"S": reason[:1000]},
        },
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["attempts"]["N"])


def forget_failures(stream_event_id: str) -> None:
    aws.dynamodb().delete_item(TableName=get_settings().need("idempotency_table"), Key=_attempts_key(stream_event_id))

