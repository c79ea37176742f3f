"""The worker's storage: per-disbursement state, derived rows, the outbox, the sweep's due queue.

Derived rows are ordinary records (current item + version item, written by
`records.record_items`), so the read API lists, reads and dates them like any other record.
Besides them the worker keeps three kinds of internal items, none of them readable:

| item | PK | SK | what for |
| --- | --- | --- | --- |
| outbox | `T#{tenant}#outbox#{event_id}` | `outbox` | an event written with its row, waiting to be published |
| due entry | `DUE#{yyyy-mm-dd}#{shard}` | `T#{tenant}#{disbursement_id}` | the sweep looks at the disbursement once that day has passed |
| sweep watermark | `SWEEP#state` | `watermark` | the last due day a complete sweep processed |
| attempt counter | (idempotency table) `worker#attempts#{stream event id}` | | deliveries of a failing stream record, expires after 2 days |

The due queue and the watermark are the keys that do not start with the tenant: the sweep reads it across
tenants, by day, and nothing a partner sends can reach it (reads always build `T#{tenant}#...`).

One module per concern: `state` (what a recomputation reads), `rows` (derived rows and their
commit), `outbox`, `due` (the due queue and the watermark) and `attempts` (failing stream
records). The worker calls them through this package.
"""

from ledgerline.store.derived.attempts import count_failure, forget_failures
from ledgerline.store.derived.due import (
    SWEEP_SHARDS,
    drop_due,
    due_key,
    due_moves,
    due_on,
    mark_swept_through,
    sweep_shard,
    swept_through,
)
from ledgerline.store.derived.outbox import is_published, outbox_key, outbox_put, record_published
from ledgerline.store.derived.rows import WORKER, commit, row_items
from ledgerline.store.derived.state import load_state, payments_of, version_as_of

__all__ = [
    "SWEEP_SHARDS", "WORKER", "commit", "count_failure", "drop_due", "due_key", "due_moves", "due_on",
    "forget_failures", "is_published", "load_state", "mark_swept_through", "outbox_key", "outbox_put",
    "payments_of", "record_published", "row_items", "sweep_shard", "swept_through", "version_as_of",
]
