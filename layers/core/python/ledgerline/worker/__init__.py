"""The stream worker use case: load, derive, write, publish.

For each stream record (Lambda's DynamoDB Streams shape) that passes the filter of
`store.schema.STREAM_FILTERS`:
  - a current item of a source table that feeds it (clients, disbursements, payments, operations):
      1. the create-once rows of that change (extensions, rebates, write-offs, asset status),
         one item each, each followed by its event's outgoing_events row, every one a
         conditional put (already there: a replay, nothing to do);
      2. for a disbursement or a payment, the disbursement's status and statement recomputed
         from its current state, written under an optimistic lock on the statements record
         (its version), with the status row, the events' outgoing_events rows and the sweep's
         due entry, in one transaction; a lost race reloads and recomputes;
      3. what the reports read (ledgerline.posting: double-entry lines, totals, position,
         portfolio facts; for a client, its movement in the registry), once;
  - the INSERT of an outgoing_events row: the stream is the outbox; the event is published
    (PutEvents) from it. A failure fails the record, which Lambda delivers again: events are
    published at least once (same event id every time) and stored exactly once.
A record that keeps failing goes, after `worker_max_attempts` deliveries, to the dead-letter
queue with its reason, and the worker moves on.

The daily sweep recomputes the disbursements whose next due day has passed (the due queue
holds exactly those), so `overdue` appears without a new event and without a table scan.

One module per concern: `stream` (the entry for one stream record, its failure budget),
`derivation` (create-once rows and per-disbursement recomputation), `publishing`,
`dead_letters` and `daily_sweep`.
"""

from ledgerline.worker.daily_sweep import is_sweep_request, sweep, sweep_request
from ledgerline.worker.derivation import Unprocessable, create_once, derive, recompute_disbursement
from ledgerline.worker.publishing import publish_row
from ledgerline.worker.stream import handle, process_stream_record, processing_date

__all__ = [
    "Unprocessable", "create_once", "derive", "handle", "is_sweep_request", "process_stream_record",
    "processing_date", "publish_row", "recompute_disbursement", "sweep", "sweep_request",
]
