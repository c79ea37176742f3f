"""Publishing outgoing events from the table's stream: the outbox is the stream.

An event is emitted by writing its outgoing_events row (`store.outgoing`). The INSERT record of
that row reaches the worker (the stream filter lets it through) and is published here with one
PutEvents. Should EventBridge refuse it or the call fail, the record fails and Lambda delivers
it again (then the dead-letter queue, like any record): published at least once, always under
the event id in its detail; subscribers drop repeats by `detail.event_id`.
"""

from __future__ import annotations

from typing import Any

from ledgerline.events.publish import PublishError, publish
from ledgerline.observability import count
from ledgerline.store.outgoing import event_of


def publish_row(item: dict[str, Any]) -> None:
    """Publish the event of one new outgoing_events row."""
    event = event_of(item)
    if not publish([event]):
        raise PublishError(f"EventBridge refused {event.event_id}")
    count("EventsPublished")
