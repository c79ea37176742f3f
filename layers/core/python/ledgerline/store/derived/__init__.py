"""The worker's storage: per-disbursement state, derived rows, the sweep's due queue.

Derived rows are ordinary records written by `records.record_items`, so the read API lists,
reads and dates them like any other record: a statement is versioned (current item + version
items); a row that never changes (status, extension, rebate, write-off, asset status) is one
item, read back as version 1. Outgoing events are emitted through `store.outgoing`.
Besides them the worker keeps a few internal items, none of them readable:

| item | PK | SK | what for |
| --- | --- | --- | --- |
| due entry | `DUE#{yyyy-mm-dd}#{shard}` | `T#{tenant}#{disbursement_id}` | the sweep looks at the disbursement once that day has passed |
| sweep watermark | `SWEEP#state` | `watermark` | the last due day a complete sweep processed |
| attempt counter | (idempotency table) `worker#attempts#{stream event id}` | | deliveries of a failing stream record, expires after 2 days |

The due queue and the watermark are the keys that do not start with the tenant: the sweep reads it across
tenants, by day, and nothing a partner sends can reach it (reads always build `T#{tenant}#...`).

One module per concern: `state` (what a recomputation reads), `rows` (derived rows and their
commit), `due` (the due queue and the watermark) and `attempts` (failing stream
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
from ledgerline.store.derived.rows import WORKER, commit, row_items
from ledgerline.store.derived.state import load_state, payments_of, version_as_of

__all__ = [
    "SWEEP_SHARDS", "WORKER", "commit", "count_failure", "drop_due", "due_key", "due_moves", "due_on",
    "forget_failures", "load_state", "mark_swept_through", "payments_of", "row_items", "sweep_shard",
    "swept_through", "version_as_of",
]
