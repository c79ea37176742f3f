"""The registry of tables: every table of the single table, what it holds and who reads it.

One entry per table. The read API (which tables exist, which filters apply), the stream
filter and the worker's dispatch (which tables feed it), the OpenAPI enum of table names and
the tests all read this registry; nothing else lists table names. Pure data: no AWS.

A table's items follow the single-table key layout (docs/architecture.md): a current item
`T#{tenant}#{table}#{id}` / `v0`, which holds the record's latest version, and one item per
version it superseded (`store.records`); a table whose rows never change has the current item
only (`version_items` False: read as version 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CURRENT_SK = "v0"  # sort key of a record's current item


class Kind(StrEnum):
    SOURCE = "source"  # written by POST /ingest from a partner's event
    DERIVED = "derived"  # written by the stream worker from source records
    LOG = "log"  # one immutable row per ingested or published event
    DISTRIBUTION = "distribution"  # written by the distribution routes (docs/distributions.md)
    WEBHOOK = "webhook"  # subscriptions (written by the webhook routes) and their delivery log (docs/webhooks.md)
    INTERNAL = "internal"  # bookkeeping items a partner never reads (guards)


class Filter(StrEnum):
    """A list filter, and the index that answers it (`store.schema.INDEX_OF_FILTER`)."""

    DISBURSEMENT = "disbursement_id"
    CLIENT = "client_id"


@dataclass(frozen=True)
class Table:
    name: str
    kind: Kind
    id_field: str  # the record field holding its id (within its group, for a grouped table)
    filters: frozenset[Filter] = frozenset()  # the list filters that apply (each an index of its own)
    immutable: bool = False  # created once, never a second version
    feeds_worker: bool = False  # a change of its current item is a stream worker input
    published: bool = False  # the INSERT of a row is an outgoing event the worker publishes (stream = outbox)
    # False: the current item is the record's only item (its one version). True: the current
    # item holds its latest version, and each version it superseded has an item of its own.
    version_items: bool = True
    item_sk: str = CURRENT_SK  # sort key of the current item (guards have their own)
    # The record field its current items are grouped by on the owner index (an asset's holders,
    # a run's lines), so one Query lists a group: `store.keys.group_partition`.
    group_field: str | None = None
    # Its records take more than 1 KB: every write unit is 1 KB, so each item stores its record
    # compressed (`store.records`; no condition or filter may then name a field inside it), and
    # its copy on the by-table index (whose sort key moves with every update) holds the keys only,
    # a page reading its items by key (`store.schema.indexes_of`).
    large_items: bool = False

    @property
    def readable(self) -> bool:
        return self.kind is not Kind.INTERNAL


def _table(name: str, kind: Kind, id_field: str, *filters: Filter, **options: bool | str | None) -> Table:
    return Table(name, kind, id_field, frozenset(filters), **options)  # type: ignore[arg-type]


D, C = Filter.DISBURSEMENT, Filter.CLIENT
# A row that never gets a second version is one item: its current item is its version 1.
ONE_ITEM = {"immutable": True, "version_items": False}
# Source tables: the four ingest categories, and the clients of a purchase.
CLIENTS = "clients"
DISBURSEMENTS = "disbursements"
PAYMENTS = "payments"
OPERATIONS = "operations"
PURCHASE_CLIENTS = "purchase_clients"
# Derived tables (docs/derived-data.md).
DISBURSEMENT_STATUS = "disbursement_status"
EXTENSIONS = "extensions"
REBATES = "rebates"
WRITE_OFFS = "write_offs"
ASSET_STATUS = "asset_status"
STATEMENTS = "statements"
# Logs of events in and out.
INGESTED_EVENTS = "ingested_events"
OUTGOING_EVENTS = "outgoing_events"
# Distributions (docs/distributions.md): an asset register and its runs.
ASSETS = "assets"
HOLDERS = "holders"  # id {asset_id}:{holder_id}
POSITIONS = "positions"  # id {asset_id}:{holder_id}:{effective_date}
CASH_FLOW_EVENTS = "cash_flow_events"  # id {asset_id}:{cash_flow_event_id}
DISTRIBUTION_RUNS = "distribution_runs"
DISTRIBUTION_LINES = "distribution_lines"  # id {run_id}:{holder_id}
NOTICES = "notices"  # id {run_id}:{holder_id}
# Webhooks (docs/webhooks.md): subscriptions and one row per delivery attempt.
WEBHOOKS = "webhooks"
WEBHOOK_DELIVERIES = "webhook_deliveries"  # id {webhook_id}:{event_id}:{attempt:03d}
# Internal items.
LIVE_RUNS = "live_runs"  # guard items: the one run of a cash-flow event that is not canceled
RUN_LINE_CHUNKS = "run_line_chunks"  # id {run_id}:{n}: a run's lines, in chunks read consistently
INSTALLMENTS = "installments"  # guard items: which payment holds installment n

TABLES: dict[str, Table] = {table.name: table for table in (
    _table(CLIENTS, Kind.SOURCE, "client_id", C, feeds_worker=True),
    _table(DISBURSEMENTS, Kind.SOURCE, "disbursement_id", D, C, feeds_worker=True),
    _table(PAYMENTS, Kind.SOURCE, "payment_id", D, C, feeds_worker=True),
    _table(OPERATIONS, Kind.SOURCE, "operation_id", D, feeds_worker=True),
    _table(PURCHASE_CLIENTS, Kind.SOURCE, "purchase_client_id", D, C),
    _table(DISBURSEMENT_STATUS, Kind.DERIVED, "status_id", D, **ONE_ITEM),
    _table(EXTENSIONS, Kind.DERIVED, "extension_id", D, **ONE_ITEM),
    _table(REBATES, Kind.DERIVED, "rebate_id", D, **ONE_ITEM),
    _table(WRITE_OFFS, Kind.DERIVED, "write_off_id", D, **ONE_ITEM),
    _table(ASSET_STATUS, Kind.DERIVED, "asset_status_id", D, **ONE_ITEM),
    _table(STATEMENTS, Kind.DERIVED, "disbursement_id", D, large_items=True),
    _table(INGESTED_EVENTS, Kind.LOG, "event_id", large_items=True, **ONE_ITEM),
    _table(OUTGOING_EVENTS, Kind.LOG, "event_id", D, published=True, large_items=True, **ONE_ITEM),
    _table(ASSETS, Kind.DISTRIBUTION, "asset_id"),
    _table(HOLDERS, Kind.DISTRIBUTION, "holder_id", group_field="asset_id"),
    _table(POSITIONS, Kind.DISTRIBUTION, "position_id", group_field="asset_id"),
    _table(CASH_FLOW_EVENTS, Kind.DISTRIBUTION, "cash_flow_event_id", group_field="asset_id"),
    _table(DISTRIBUTION_RUNS, Kind.DISTRIBUTION, "run_id", group_field="asset_id"),
    _table(DISTRIBUTION_LINES, Kind.DISTRIBUTION, "line_id", group_field="run_id", **ONE_ITEM),
    _table(NOTICES, Kind.DISTRIBUTION, "notice_id", group_field="run_id"),
    _table(WEBHOOKS, Kind.WEBHOOK, "webhook_id"),
    _table(WEBHOOK_DELIVERIES, Kind.WEBHOOK, "delivery_id", group_field="webhook_id", **ONE_ITEM),
    _table(LIVE_RUNS, Kind.INTERNAL, "cash_flow_event_id", version_items=False, item_sk="guard"),
    _table(RUN_LINE_CHUNKS, Kind.INTERNAL, "chunk_id", version_items=False, item_sk="chunk"),
    _table(INSTALLMENTS, Kind.INTERNAL, "payment_id", version_items=False, item_sk="guard"),
)}

READABLE = tuple(name for name, table in TABLES.items() if table.readable)
WORKER_INPUTS = tuple(name for name, table in TABLES.items() if table.feeds_worker)
PUBLISHED = tuple(name for name, table in TABLES.items() if table.published)


def of_kind(kind: Kind) -> tuple[str, ...]:
    return tuple(name for name, table in TABLES.items() if table.kind is kind)
