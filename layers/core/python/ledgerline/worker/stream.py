"""The worker's entry for one stream record: route it, within its failure budget."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ledgerline.domain.tables import PUBLISHED, WORKER_INPUTS
from ledgerline.observability import logger
from ledgerline.settings import get_settings
from ledgerline.store import derived
from ledgerline.store.records import from_attributes
from ledgerline.store.schema import CURRENT_SK
from ledgerline.worker.dead_letters import dead_letter
from ledgerline.worker.derivation import derive
from ledgerline.worker.publishing import publish_row


def processing_date() -> date:
    return datetime.now(UTC).date()


def process_stream_record(record: dict[str, Any], today: date | None = None) -> None:
    """Handle one stream record within its failure budget.

    A failure is re-raised (the batch reports it, Lambda delivers the record again) until the
    record has failed `worker_max_attempts` times; then it goes to the dead-letter queue with
    the reason and counts as handled, so the records behind it move on.
    """
    _correlate(record)
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


def _correlate(record: dict[str, Any]) -> None:
    """Log this record's work under its tenant, the key that made the change (`changed_by`: an
    API key id, or the worker itself for derived rows) and the event id of the item that changed
    (for a source record, the ingested event's id: the same id the ingest logged)."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}

    def text(name: str) -> str | None:
        value = image.get(name)
        return value.get("S") if isinstance(value, dict) else None

    logger.set_correlation_id(text("event_id"))
    logger.append_keys(tenant_id=text("tenant"), key_id=text("changed_by"), stream_event_id=record.get("eventID"))


def handle(record: dict[str, Any], today: date) -> None:
    stream = record.get("dynamodb") or {}
    keys = from_attributes(stream.get("Keys") or {})
    new = from_attributes(stream.get("NewImage") or {})
    old = from_attributes(stream["OldImage"]) if stream.get("OldImage") else None
    current = keys.get("SK") == CURRENT_SK
    if current and new.get("table") in PUBLISHED and record.get("eventName") == "INSERT":
        publish_row(new)
    elif current and new.get("table") in WORKER_INPUTS:
        derive(new, old, today)
    else:  # the event source filter lets nothing else through; say so if it ever does
        logger.warning("stream record ignored", extra={"keys": keys, "event_name": record.get("eventName")})
