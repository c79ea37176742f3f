"""Publishing outgoing events to EventBridge (PutEvents)."""

from __future__ import annotations

from ledgerline import aws
from ledgerline.events.outgoing import Outgoing, put_events_entry
from ledgerline.observability import logger
from ledgerline.settings import get_settings


class PublishError(Exception):
    """EventBridge refused an entry; the stream record is retried."""


MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call


def publish(events: list[Outgoing]) -> list[Outgoing]:
    """PutEvents for `events`; returns those EventBridge accepted (a refused entry is logged
    and left out; the caller fails its stream record, which Lambda delivers again)."""
    bus = get_settings().need("event_bus_name")
    accepted: list[Outgoing] = []
    for start in range(0, len(events), MAX_ENTRIES):
        chunk = events[start:start + MAX_ENTRIES]
        response = aws.client("events").put_events(Entries=[put_events_entry(event, bus) for event in chunk])
        for event, result in zip(chunk, response["Entries"], strict=True):
            if result.get("ErrorCode"):
                logger.warning("EventBridge refused an event", extra={
                    "event_id": event.event_id, "error": result.get("ErrorCode"), "detail": result.get("ErrorMessage")})
            else:
                accepted.append(event)
    return accepted

