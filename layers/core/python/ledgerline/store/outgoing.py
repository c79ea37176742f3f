"""Emitting an outgoing event: the one way, for every module that announces something.

An event is emitted by writing its `outgoing_events` row, once (`attribute_not_exists` on the
event's stable id):
- `event_put(event, now)`: the row's Put, to go in the `TransactWriteItems` that writes what
  the event announces, when the two must happen together;
- `emit(events, now)`: the rows on their own, one conditional `PutItem` each, when nothing must
  change with them.
Nothing else is needed: the row's stream INSERT record is the outbox. The event source mapping
passes it to the worker (`store.schema.STREAM_FILTERS`), which publishes the event to
EventBridge from it (`worker.publishing`), at least once and always under the same event id.
A second write of the same event (a redelivered record, a replay) is refused, so it is neither
stored nor published twice.
"""

from __future__ import annotations

from typing import Any

from ledgerline.domain.category import RecordWrite
from ledgerline.domain.tables import OUTGOING_EVENTS
from ledgerline.events.outgoing import Outgoing, log_record
from ledgerline.settings import get_settings
from ledgerline.store.derived.rows import WORKER
from ledgerline.store.records import EventContext, put_once, record_items


def event_put(event: Outgoing, now: str, changed_by: str = WORKER) -> dict[str, Any]:
    """The Put of an event's outgoing_events row (for a transaction): created once, published
    from its stream record."""
    record = log_record(event, now)
    context = EventContext(event.tenant, event.cause["event_id"], changed_by, now)
    write = RecordWrite(OUTGOING_EVENTS, event.event_id, record, 0, sorted(record))
    [put] = record_items(get_settings().records_table, context, write, now)
    return put


def emit(events: list[Outgoing], now: str, changed_by: str = WORKER) -> list[Outgoing]:
    """Emit events on their own (one conditional PutItem each); returns those not emitted before."""
    return [event for event in events if put_once(event_put(event, now, changed_by))]


def event_of(item: dict[str, Any]) -> Outgoing:
    """The event an outgoing_events item holds (the stream record's new image)."""
    return Outgoing.from_item({**item["record"], "tenant": item["tenant"]})
