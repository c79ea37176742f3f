"""The stream worker use case: load, derive, write, publish.

For each stream record (Lambda's DynamoDB Streams shape) that passes the filter of
`store.schema.STREAM_FILTERS`:
  - a current item of a source table (disbursements, payments, operations):
      1. the create-once rows of that change (extensions, rebates, write-offs, asset status),
         with their outbox items, in one transaction (already there: a replay, nothing to do);
      2. for a disbursement or a payment, the disbursement's status and statement recomputed
         from its current state, written under an optimistic lock on the statements record
         (its version), with the status row, the outbox items and the sweep's due entry, in one
         transaction; a lost race reloads and recomputes;
  - its journal lines (ledgerline.posting: double-entry lines, totals, position), once;
  - every commit writes an outbox item per event; right after it, the events are published
    (PutEvents) and recorded (outgoing_events rows created, outbox items deleted, one
    transaction). Should that fail, the outbox item's own stream record brings it back here,
    and it is published from there until it goes through: events are published at least
    once (same event id every time) and recorded exactly once.
A record that keeps failing goes, after `worker_max_attempts` deliveries, to the dead-letter
queue with its reason, and the worker moves on.

The daily sweep recomputes the disbursements whose next due day has passed (the due queue
holds exactly those), so `overdue` appears without a new event and without a table scan.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from ledgerline import posting
from ledgerline.domain.derive import Cause, Recomputed, disbursement_of, operation_of, recompute, rows_of_change
from ledgerline.domain.derive.common import DISBURSEMENT_STATUS, Row
from ledgerline.domain.derive.recompute import applies_as_of
from ledgerline.domain.jsonio import dumps
from ledgerline.events.outgoing import Outgoing, outgoing_for
from ledgerline.events.publish import PublishError, publish
from ledgerline.observability import count, logger
from ledgerline.settings import get_settings
from ledgerline.store import derived
from ledgerline.store.keys import system_time
from ledgerline.store.records import AlreadyIngested, WriteConflict, from_attributes
from ledgerline.store.schema import CURRENT_SK, OUTBOX_SK, SOURCE_TABLES

SWEEP_REQUEST = "sweep"  # {"ledgerline": "sweep", "date": "YYYY-MM-DD" (optional)}
_DEAD_LETTER_MAX_BYTES = 200_000  # SQS takes 256 KiB; the record is left out beyond this
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


class Unprocessable(Exception):
    """A stream record the worker cannot make sense of (it will end in the dead-letter queue)."""


def processing_date() -> date:
    return datetime.now(UTC).date()


# one stream record -----------------------------------------------------------------------


def process_stream_record(record: dict[str, Any], today: date | None = None) -> None:
    """Handle one stream record within its failure budget.

    A failure is re-raised (the batch reports it, Lambda delivers the record again) until the
    record has failed `worker_max_attempts` times; then it goes to the dead-letter queue with
    the reason and counts as handled, so the records behind it move on.
    """
    try:
        handle(record, today or processing_date())
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        stream_event_id = record.get("eventID") or record.get("dynamodb", {}).get("SequenceNumber", "?")
        attempts = derived.count_failure(stream_event_id, reason)
        logger.warning("stream record failed", extra={"stream_event_id": stream_event_id, "attempts": attempts,
                                                      "reason": reason[:500]})
        if attempts < get_settings().worker_max_attempts:
            raise
        dead_letter(record, reason, attempts)
        derived.forget_failures(stream_event_id)


def handle(record: dict[str, Any], today: date) -> None:
    stream = record.get("dynamodb") or {}
    keys = from_attributes(stream.get("Keys") or {})
    new = from_attributes(stream.get("NewImage") or {})
    old = from_attributes(stream["OldImage"]) if stream.get("OldImage") else None
    if keys.get("SK") == OUTBOX_SK and new:
        publish_outbox(new)
    elif keys.get("SK") == CURRENT_SK and new.get("table") in SOURCE_TABLES:
        derive(new, old, today)
    else:  # the event source filter lets nothing else through; say so if it ever does
        logger.warning("stream record ignored", extra={"keys": keys, "event_name": record.get("eventName")})


def derive(new_item: dict[str, Any], old_item: dict[str, Any] | None, today: date) -> None:
    try:
        tenant, table, new = new_item["tenant"], new_item["table"], new_item["record"]
        old = (old_item or {}).get("record")
        cause = Cause(table, new_item["id"], int(new_item["version"]), new_item["event_id"],
                      new_item["valid_from"], new_item["system_from"], operation_of(old, new))
    except (KeyError, TypeError, ValueError) as error:
        raise Unprocessable(f"not a current record item: {error!r}") from error
    rows = rows_of_change(table, old, new, new_item.get("change"), cause)
    if rows:
        create_once(tenant, rows, cause)
    disbursement_id = disbursement_of(table, new)
    if disbursement_id:
        recompute_disbursement(tenant, disbursement_id, cause, today, trigger=(table, new))
    posting.journal_change(tenant, new_item, old_item)


def create_once(tenant: str, rows: list[Row], cause: Cause) -> bool:
    """Write rows that exist once per cause, with their events' outbox items; False if they existed."""
    now = system_time()
    events = [outgoing_for(tenant, row, 1, cause) for row in rows]
    items = [item for row in rows for item in derived.row_items(tenant, row, cause.event_id, cause.valid_from, None, now)]
    items += [derived.outbox_put(event, now) for event in events]
    for attempt in range(get_settings().max_write_attempts):
        try:
            derived.commit(items, already_done_index=1)  # the first row's current item
        except AlreadyIngested:
            logger.info("derived rows already written", extra={"cause": cause.as_record()})
            return False
        except WriteConflict:
            _backoff(attempt)
            continue
        count("DerivedRows", len(rows))
        publish_now(events)
        return True
    raise WriteConflict(f"gave up writing rows of {cause.as_record()}")


def recompute_disbursement(
    tenant: str,
    disbursement_id: str,
    cause: Cause,
    today: date,
    trigger: tuple[str, dict[str, Any]] | None = None,
) -> Recomputed | None:
    """Recompute and store one disbursement's status and statement; None if it does not exist.

    The statements record's version is the lock: two workers recomputing the same disbursement
    (parallel shards, the sweep) cannot both write; the loser reloads and recomputes.
    """
    done_status_rows: set[str] = set()
    for attempt in range(get_settings().max_write_attempts):
        disbursement_item, statement_item = derived.load_state(tenant, disbursement_id)
        if disbursement_item is None:
            logger.warning("disbursement not found", extra={"disbursement_id": disbursement_id})
            return None
        disbursement = disbursement_item["record"]
        payments = derived.payments_of(tenant, disbursement_id)
        stored = statement_item["record"] if statement_item else None
        trigger_table, trigger_record = trigger or (None, None)
        at_cause = trigger_record if trigger_table == "disbursements" else None
        if at_cause is None and applies_as_of(stored, cause) and disbursement["updated_at"] > cause.system_from:
            # changed since the cause: take the version that was current then
            at_cause = derived.version_as_of(tenant, "disbursements", disbursement_id, cause.system_from)
        payment = trigger_record if trigger_table == "payments" else None
        result = recompute(disbursement, payments, stored, today, cause, at_cause, payment)
        if result.status_change is not None and result.status_change.id in done_status_rows:
            result.status_change = None
        if not result.rows:
            return result
        items, events, status_items = _recompute_items(tenant, disbursement_id, result, stored, cause)
        try:
            derived.commit(items)
        except WriteConflict as conflict:
            codes = conflict.args[0] if conflict.args and isinstance(conflict.args[0], list) else []
            if result.status_change is not None and _only_failed(codes, status_items):
                # This cause already wrote this status row: the status went away and came back
                # since. The row stays as it is; the statement is still to be written.
                done_status_rows.add(result.status_change.id)
            else:
                _backoff(attempt)
            continue
        count("DerivedRows", len(result.rows))
        publish_now(events)
        return result
    raise WriteConflict(f"gave up recomputing disbursement {disbursement_id}")


def _recompute_items(
    tenant: str, disbursement_id: str, result: Recomputed, stored: dict[str, Any] | None, cause: Cause
) -> tuple[list[dict[str, Any]], list[Outgoing], set[int]]:
    """The transaction items, the events, and the positions of the status row's own items
    (its version, its current item, its event's outbox item)."""
    now = system_time()
    items: list[dict[str, Any]] = []
    events: list[Outgoing] = []
    status_items: set[int] = set()
    version = int(stored["version"]) if stored else 0
    if result.statement is not None:
        items += derived.row_items(tenant, result.statement, cause.event_id, cause.valid_from, stored, now)
        events.append(outgoing_for(tenant, result.statement, version + 1, cause))
    if result.status_change is not None:
        status_items = {len(items), len(items) + 1}
        items += derived.row_items(tenant, result.status_change, cause.event_id, cause.valid_from, None, now)
        events.append(outgoing_for(tenant, result.status_change, 1, cause))
    for event in events:
        if event.subject["table"] == DISBURSEMENT_STATUS:
            status_items.add(len(items))
        items.append(derived.outbox_put(event, now))
    items += derived.due_moves(result.sweep_before, result.sweep_after, tenant, disbursement_id)
    return items, events, status_items


def _only_failed(codes: list[Any], indexes: set[int]) -> bool:
    failed = {i for i, code in enumerate(codes) if code not in (None, "None")}
    return bool(failed) and failed <= indexes and all(codes[i] == "ConditionalCheckFailed" for i in failed)


def _backoff(attempt: int) -> None:
    count("WriteConflicts")
    time.sleep(random.uniform(0, min(0.4, 0.005 * 2**attempt)))


# outbox ----------------------------------------------------------------------------------


def publish_now(events: list[Outgoing]) -> None:
    """Publish what a commit just wrote, right away: one PutEvents, one transaction recording them.

    Best effort: whatever fails here is still in the outbox, and the stream brings each outbox
    item back to `publish_outbox`, which retries until it goes through.
    """
    if not events:
        return
    try:
        published = publish(events)
        count("EventsPublished", len(published))
        derived.record_published(published, system_time())
    except Exception as error:  # noqa: BLE001 - the outbox takes over
        logger.warning("publishing now failed; the outbox will retry",
                       extra={"reason": f"{type(error).__name__}: {error}"[:500]})


def publish_outbox(item: dict[str, Any]) -> None:
    """Publish one event from its outbox item, at least once, and record it exactly once.

    Recorded already (published right after its commit, or a replay): nothing to do, the
    transaction that recorded it also deleted the outbox item. Otherwise PutEvents, then one
    transaction creates the outgoing_events row and deletes the outbox item. A crash between
    the two publishes the event again on the retry, under the same event id in its detail.
    """
    event = Outgoing.from_item(item)
    if derived.is_published(event.tenant, event.event_id):
        return
    if not publish([event]):
        raise PublishError(f"EventBridge refused {event.event_id}")
    count("EventsPublished")
    derived.record_published([event], system_time())


# dead letters ----------------------------------------------------------------------------


@cache
def sqs() -> Any:
    """Created on first use, never at import (endpoint from AWS_ENDPOINT_URL when set)."""
    return boto3.client("sqs", config=_CONFIG)


def reset_clients() -> None:
    sqs.cache_clear()


def dead_letter(record: dict[str, Any], reason: str, attempts: int) -> None:
    queue_url = get_settings().worker_dlq_url
    if not queue_url:
        raise RuntimeError(f"no dead-letter queue configured for a record that failed {attempts} times: {reason}")
    stream = record.get("dynamodb") or {}
    new = from_attributes(stream.get("NewImage") or {})
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
    sqs().send_message(QueueUrl=queue_url, MessageBody=text, MessageAttributes={
        "reason": {"DataType": "String", "StringValue": reason[:256]},
    })
    count("DeadLettered")
    logger.error("stream record sent to the dead-letter queue", extra={"reason": reason[:500], **body["source"]})


# the daily sweep -------------------------------------------------------------------------


def is_sweep_request(event: Any) -> bool:
    return isinstance(event, dict) and event.get("ledgerline") == SWEEP_REQUEST


def sweep(
    today: date | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
    since: date | None = None,
) -> dict[str, Any]:
    """Recompute every disbursement whose next due day is before `today` (default: now, UTC).

    Reads the due queue day by day, shard by shard (no scan): from the day after the last
    complete sweep (the watermark), or `sweep_lookback_days` back when that is earlier or there
    is none, or from `since` when given, up to yesterday. Each entry is removed by the
    recomputation that makes its disbursement overdue, or here when it turns out stale; running
    twice is harmless. Stops early when `out_of_time()`; the watermark then stays, so the next
    run starts over where this one could not finish.
    """
    today = today or processing_date()
    cause = Cause.sweep(today, system_time())
    last = derived.swept_through()
    start = today - timedelta(days=get_settings().sweep_lookback_days)
    if last is not None and last + timedelta(days=1) < start:
        start = last + timedelta(days=1)
    if since is not None:
        start = since
    summary: dict[str, Any] = {"date": today.isoformat(), "from": start.isoformat(), "checked": 0, "overdue": 0,
                               "complete": True}
    due = start
    while due < today:
        for tenant, disbursement_id in list(derived.due_on(due)):
            if out_of_time():
                summary["complete"] = False
                logger.warning("sweep stopped before the end", extra=summary)
                return summary
            summary["checked"] += 1
            result = recompute_disbursement(tenant, disbursement_id, cause, today)
            if result is not None and result.status_change is not None and result.status == "overdue":
                summary["overdue"] += 1
            if result is None or result.sweep_after != due:
                derived.drop_due(due, tenant, disbursement_id)
        due += timedelta(days=1)
    derived.mark_swept_through(today - timedelta(days=1))
    count("SweepChecked", summary["checked"])
    logger.info("sweep done", extra=summary)
    return summary


def sweep_request(event: dict[str, Any], remaining_ms: Callable[[], int]) -> dict[str, Any]:
    """The scheduler's (or an operator's) sweep request: `date` overrides the processing date,
    `since` the first due day to look at (e.g. a first run over older data)."""
    today = date.fromisoformat(event["date"]) if event.get("date") else None
    since = date.fromisoformat(event["since"]) if event.get("since") else None
    return sweep(today, out_of_time=lambda: remaining_ms() < 20_000, since=since)
