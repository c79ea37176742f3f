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
  - every commit writes an outbox item per event; right after it, the events are published
    (PutEvents) and recorded (outgoing_events rows created, outbox items deleted, one
    transaction). Should that fail, the outbox item's own stream record brings it back here,
    and it is published from there until it goes through: events are published at least
    once (same event id every time) and recorded exactly once.
A record that keeps failing goes, after `worker_max_attempts` deliveries, to the dead-letter
queue with its reason, and the worker moves on.

The daily sweep recomputes the disbursements whose next due day has passed (the due queue
holds exactly those), so `overdue` appears without a new event and without a table scan.

One module per concern: `stream` (the entry for one stream record, its failure budget),
`derivation` (create-once rows and per-disbursement recomputation), `outbox` (publishing),
`dead_letters` and `daily_sweep`.
"""

from ledgerline.worker.daily_sweep import is_sweep_request, sweep, sweep_request
from ledgerline.worker.derivation import Unprocessable, create_once, derive, recompute_disbursement
from ledgerline.worker.outbox import publish_now, publish_outbox
from ledgerline.worker.stream import handle, process_stream_record, processing_date

__all__ = [
    "Unprocessable", "create_once", "derive", "handle", "is_sweep_request", "process_stream_record",
    "processing_date", "publish_now", "publish_outbox", "recompute_disbursement", "sweep", "sweep_request",
]
