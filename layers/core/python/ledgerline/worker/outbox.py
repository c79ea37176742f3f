"""Publishing outgoing events: right after their commit, and from their outbox item's own stream
record until it goes through (at least once on the bus, recorded exactly once)."""

from __future__ import annotations

from typing import Any

from ledgerline.events.outgoing import Outgoing
from ledgerline.events.publish import PublishError, publish
from ledgerline.observability import count, logger
from ledgerline.store import derived
from ledgerline.store.keys import system_time


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
