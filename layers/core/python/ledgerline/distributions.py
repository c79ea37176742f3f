"""Distribution operations (docs/distributions.md): the register, runs, files and notices.

Each operation reads what it needs, decides with the pure rules of `domain.distributions`,
and commits in one transaction whose conditions hold only if nothing it read has changed
(optimistic locks on versions, a guard for the one live run of a cash-flow event). A
conflict reloads and decides again, so two concurrent approvals cannot both succeed: the
second sees an approved run. Every run state change writes its outgoing_events row in the
same transaction; the row's stream record is the outbox, from which the worker publishes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledgerline import run_completion
from ledgerline.actors import Actor, Answer
from ledgerline.domain.category import RecordWrite, changed_fields
from ledgerline.domain.distributions import files, run_exceptions
from ledgerline.domain.distributions.holders_csv import HolderRow, parse_holders_csv
from ledgerline.domain.distributions.models import (
    AssetChange,
    AssetIn,
    CalculateIn,
    CashFlowEventIn,
    HolderIn,
    MarkSentIn,
    PositionIn,
    event_rules,
    parse,
    require,
)
from ledgerline.domain.distributions.money import minor_unit_exponent
from ledgerline.domain.distributions.notices import build_notice, notice_id
from ledgerline.domain.distributions.positions import units_as_of
from ledgerline.domain.distributions.prorata import allocate
from ledgerline.domain.distributions.runs import PAYABLE, RunAction, RunStatus, next_status, require_status
from ledgerline.domain.errors import DomainError, Violation, conflict, validation_error
from ledgerline.domain.tables import (
    ASSETS,
    CASH_FLOW_EVENTS,
    DISTRIBUTION_RUNS,
    HOLDERS,
    LIVE_RUNS,
    NOTICES,
    POSITIONS,
)
from ledgerline.domain.values import ID_PATTERN, parse_when
from ledgerline.events.outgoing import run_update
from ledgerline.settings import get_settings
from ledgerline.store import distributions as store
from ledgerline.store.keys import current_key, system_time
from ledgerline.store.outgoing import event_put
from ledgerline.store.records import EventContext, WriteConflict
from ledgerline.store.retry import retry_on_conflict

# Lines that fit in the run's own transaction (with the run's 2 items, its guard, the asset
# check, its event and its one line chunk).
LINES_IN_RUN_TRANSACTION = 94
# Runs of up to this many lines answer 201 once complete; larger ones answer 202 while
# `calculating` and are finished asynchronously (docs/distributions.md, docs/performance.md).
SYNC_LINES = 1_000
# Notices a request of a run of more than SYNC_LINES paid lines generates or marks sent.
NOTICES_PER_REQUEST = 2_000
# The run's first transaction holds its item(s) (at most 2: the current item and the superseded
# version's), its guard, the asset check and its chunks.
MAX_RUN_LINES = (store.TRANSACTION_ITEMS - 4) * store.LINES_PER_CHUNK
# Record writes per transaction when a request writes many records: at most 2 items each (an
# update: the current item and the superseded version's; a new record is 1), plus the parent
# check, within DynamoDB's 100 items per transaction.
WRITES_PER_TRANSACTION = 49


def _not_found(what: str, record_id: str) -> DomainError:
    return DomainError("not-found", f"No {what} '{record_id}'.")


def _busy() -> DomainError:
    return DomainError("request-in-progress", "The records changed concurrently too often; retry shortly.",
                       retry_after=1)


def _retry(attempt: Callable[[], Answer]) -> Answer:
    return retry_on_conflict(attempt, _busy)


def _write(table: str, record_id: str, record: dict[str, Any], current: dict[str, Any] | None) -> RecordWrite:
    previous = int(current["version"]) if current else 0
    if current:
        record = {**record, "created_at": current["created_at"]}
    return RecordWrite(table, record_id, record, previous, changed_fields(current, record))


def public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "deleted" or v}


def _live_check(tenant: str, table: str, record_id: str) -> dict[str, Any]:
    """The record exists and is not deleted when the transaction commits."""
    return {"ConditionCheck": {
        "TableName": get_settings().records_table, "Key": current_key(tenant, table, record_id),
        "ConditionExpression": "attribute_exists(PK) AND #r.#d = :false",
        "ExpressionAttributeNames": {"#r": "record", "#d": "deleted"},
        "ExpressionAttributeValues": {":false": {"BOOL": False}},
    }}


def _stamped(record: dict[str, Any], current: dict[str, Any] | None, now: str) -> dict[str, Any]:
    """A record as `record_items` stores it over `current`, for answering without reading it back."""
    if current is None:
        return {**record, "version": 1, "created_at": now, "updated_at": now}
    return {**record, "version": int(current["version"]) + 1, "created_at": current["created_at"], "updated_at": now}


# assets -----------------------------------------------------------------------------------


def live_asset(actor: Actor, asset_id: str) -> dict[str, Any]:
    asset = store.one(actor.tenant, ASSETS, asset_id) if ID_PATTERN.fullmatch(asset_id) else None
    if asset is None or asset.get("deleted"):
        raise _not_found("asset", asset_id)
    return asset


def get_asset(actor: Actor, asset_id: str) -> dict[str, Any]:
    return public(live_asset(actor, asset_id))


def create_asset(actor: Actor, body: Any) -> Answer:
    asset = parse(AssetIn, body).model_dump(exclude_none=True)
    record = {**asset, "deleted": False}
    existing = store.one(actor.tenant, ASSETS, asset["asset_id"])
    if existing is not None:
        raise conflict(f"asset {asset['asset_id']} already exists", "asset_id", "already-exists")
    try:
        now = store.commit(actor.context(), [_write(ASSETS, asset["asset_id"], record, None)])
    except WriteConflict:
        raise conflict(f"asset {asset['asset_id']} already exists", "asset_id", "already-exists") from None
    return Answer(201, public(_stamped(record, None, now)))


def update_asset(actor: Actor, asset_id: str, body: Any) -> Answer:
    change = parse(AssetChange, body).model_dump(exclude_unset=True)
    cleared = [name for name, value in change.items() if value is None]
    require([Violation(name, "required", "cannot be cleared") for name in cleared if name in ("name", "asset_type")])

    def attempt() -> Answer:
        current = live_asset(actor, asset_id)
        record = {k: v for k, v in {**current, **change}.items() if v is not None and k not in _META}
        if changed_fields(current, record) == []:
            return Answer(200, public(current))
        now = store.commit(actor.context(), [_write(ASSETS, asset_id, record, current)])
        return Answer(200, public(_stamped(record, current, now)))

    return _retry(attempt)


def delete_asset(actor: Actor, asset_id: str) -> Answer:
    def attempt() -> Answer:
        current = live_asset(actor, asset_id)
        open_runs = [run["run_id"] for run in store.group(actor.tenant, DISTRIBUTION_RUNS, asset_id)
                     if run["status"] in (RunStatus.CALCULATING, RunStatus.CALCULATED, RunStatus.APPROVED)]
        if open_runs:
            raise conflict(f"asset {asset_id} has runs that are calculated or approved ({', '.join(open_runs)}); "
                           f"cancel or export them first", "asset_id", "open-runs")
        record = {**{k: v for k, v in current.items() if k not in _META}, "deleted": True}
        now = store.commit(actor.context(), [_write(ASSETS, asset_id, record, current)])
        return Answer(200, {**_stamped(record, current, now)})

    return _retry(attempt)


_META = ("version", "created_at", "updated_at")


# holders ----------------------------------------------------------------------------------


def holder_record_id(asset_id: str, holder_id: str) -> str:
    return f"{asset_id}:{holder_id}"


def create_holder(actor: Actor, asset_id: str, body: Any) -> Answer:
    holder = parse(HolderIn, body).model_dump(exclude_none=True)
    live_asset(actor, asset_id)
    record_id = holder_record_id(asset_id, holder["holder_id"])
    record = {"asset_id": asset_id, **holder, "deleted": False}
    refused = conflict(f"holder {holder['holder_id']} already exists in asset {asset_id}", "holder_id",
                       "already-exists")
    if store.one(actor.tenant, HOLDERS, record_id) is not None:
        raise refused
    try:
        now = store.commit(actor.context(), [_write(HOLDERS, record_id, record, None)],
                           [_live_check(actor.tenant, ASSETS, asset_id)])
    except WriteConflict:
        raise refused from None
    return Answer(201, public(_stamped(record, None, now)))


def delete_holder(actor: Actor, asset_id: str, holder_id: str) -> Answer:
    record_id = holder_record_id(asset_id, holder_id)

    def attempt() -> Answer:
        live_asset(actor, asset_id)
        current = store.one(actor.tenant, HOLDERS, record_id) if ID_PATTERN.fullmatch(holder_id) else None
        if current is None or current.get("deleted"):
            raise _not_found("holder", holder_id)
        record = {**{k: v for k, v in current.items() if k not in _META}, "deleted": True}
        now = store.commit(actor.context(), [_write(HOLDERS, record_id, record, current)])
        return Answer(200, _stamped(record, current, now))

    return _retry(attempt)


def import_holders(actor: Actor, asset_id: str, content: bytes, effective_date: str | None) -> Answer:
    """Apply a holder file: checked whole first, then written in chunks; a retry completes it."""
    day = _effective_date(effective_date)

    def attempt() -> Answer:
        live_asset(actor, asset_id)
        holders = {h["holder_id"]: h for h in store.group(actor.tenant, HOLDERS, asset_id)}
        existing = {holder_id for holder_id, h in holders.items() if not h.get("deleted")}
        rows = parse_holders_csv(content, existing)
        positions = store.current(actor.tenant, POSITIONS,
                                  [position_id(asset_id, row.holder_id, day) for row in rows if row.units is not None])
        writes, counts = _import_writes(asset_id, rows, holders, positions, day)
        store.commit_in_chunks(actor.context(), writes, WRITES_PER_TRANSACTION,
                               [_live_check(actor.tenant, ASSETS, asset_id)])
        return Answer(200, counts)

    return _retry(attempt)


def _import_writes(
    asset_id: str, rows: list[HolderRow], holders: dict[str, dict[str, Any]],
    positions: dict[str, dict[str, Any] | None], day: str,
) -> tuple[list[RecordWrite], dict[str, int]]:
    writes: list[RecordWrite] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        current = holders.get(row.holder_id)
        base = {k: v for k, v in (current or {}).items() if k not in _META}
        record = {"asset_id": asset_id, "holder_id": row.holder_id, **base, **row.fields,
                  "payment": {**base.get("payment", {}), **row.payment}, "deleted": False}
        changed = False
        if current is None or current.get("deleted") or changed_fields(current, record):
            writes.append(_write(HOLDERS, holder_record_id(asset_id, row.holder_id), record, current))
            changed = True
        if row.units is not None:
            pid = position_id(asset_id, row.holder_id, day)
            position = positions.get(pid)
            if position is None or Decimal(position["units"]) != row.units:
                writes.append(_write(POSITIONS, pid, _position(asset_id, row.holder_id, row.units, day), position))
                changed = True
        counts["created" if current is None else "updated" if changed else "unchanged"] += 1
    return writes, counts


def _effective_date(value: str | None) -> str:
    if value is None:
        return datetime.now(UTC).date().isoformat()
    try:
        return parse_when(value)[0]
    except ValueError:
        raise validation_error([Violation("effective_date", "invalid-date",
                                          "must be an ISO 8601 date (2024-11-20) or timestamp")]) from None


def list_group(actor: Actor, asset_id: str, table: str) -> list[dict[str, Any]]:
    live_asset(actor, asset_id)
    return [public(r) for r in sorted(store.group(actor.tenant, table, asset_id), key=lambda r: _sort_key(table, r))]


def _sort_key(table: str, record: dict[str, Any]) -> tuple[str, ...]:
    if table == POSITIONS:
        return record["holder_id"], record["effective_date"]
    if table == CASH_FLOW_EVENTS:
        return (record["cash_flow_event_id"],)
    return (record.get("holder_id") or record.get("run_id") or "",)


# positions --------------------------------------------------------------------------------


def position_id(asset_id: str, holder_id: str, effective_date: str) -> str:
    return f"{asset_id}:{holder_id}:{effective_date}"


def _position(asset_id: str, holder_id: str, units: Decimal, effective_date: str) -> dict[str, Any]:
    return {"position_id": position_id(asset_id, holder_id, effective_date), "asset_id": asset_id,
            "holder_id": holder_id, "units": units, "effective_date": effective_date, "deleted": False}


def create_position(actor: Actor, asset_id: str, body: Any) -> Answer:
    position = parse(PositionIn, body)

    def attempt() -> Answer:
        live_asset(actor, asset_id)
        holder_id = holder_record_id(asset_id, position.holder_id)
        holder = store.one(actor.tenant, HOLDERS, holder_id)
        if holder is None or holder.get("deleted"):
            raise validation_error([Violation("holder_id", "unknown-reference",
                                              f"holder {position.holder_id} does not exist in asset {asset_id}")])
        record = _position(asset_id, position.holder_id, position.units, position.effective_date)
        current = store.one(actor.tenant, POSITIONS, record["position_id"])
        if current is not None and not changed_fields(current, record):
            return Answer(200, public(current))
        now = store.commit(actor.context(), [_write(POSITIONS, record["position_id"], record, current)],
                           [_live_check(actor.tenant, HOLDERS, holder_id)])
        return Answer(201 if current is None else 200,
                      public(_stamped(record, current, now)))

    return _retry(attempt)


def positions_as_of(actor: Actor, asset_id: str, as_of: str) -> list[dict[str, Any]]:
    try:
        day = parse_when(as_of)[0]
    except ValueError:
        raise validation_error([Violation("as_of", "invalid-date", "must be an ISO 8601 date or timestamp")]) from None
    live_asset(actor, asset_id)
    holdings, _ = _holdings(actor, asset_id, day)
    return [{"holder_id": holder, "units": units, "as_of": day} for holder, units in holdings.items()]


def _holdings(actor: Actor, asset_id: str, day: str) -> tuple[dict[str, Decimal], dict[str, dict[str, Any]]]:
    """Units in force on `day` of the asset's holders that are not deleted, and those holders."""
    holders = {h["holder_id"]: h for h in store.group(actor.tenant, HOLDERS, asset_id) if not h.get("deleted")}
    units = units_as_of(store.group(actor.tenant, POSITIONS, asset_id), day)
    return {holder: held for holder, held in units.items() if holder in holders}, holders


# cash-flow events -------------------------------------------------------------------------


def create_cash_flow_event(actor: Actor, asset_id: str, body: Any) -> Answer:
    event = parse(CashFlowEventIn, body)
    asset = live_asset(actor, asset_id)
    require(event_rules(event, asset["currency"]))
    record_id = f"{asset_id}:{event.cash_flow_event_id}"
    record = {"asset_id": asset_id, **event.model_dump(exclude_none=True), "deleted": False}
    refused = conflict(f"cash-flow event {event.cash_flow_event_id} already exists in asset {asset_id}",
                       "cash_flow_event_id", "already-exists")
    if store.one(actor.tenant, CASH_FLOW_EVENTS, record_id) is not None:
        raise refused
    try:
        now = store.commit(actor.context(), [_write(CASH_FLOW_EVENTS, record_id, record, None)],
                           [_live_check(actor.tenant, ASSETS, asset_id)])
    except WriteConflict:
        raise refused from None
    return Answer(201, public(_stamped(record, None, now)))


# runs -------------------------------------------------------------------------------------


def calculate(actor: Actor, body: Any) -> Answer:
    """Snapshot the positions on the record date, allocate, and store the run and its lines.

    A run of up to `LINES_IN_RUN_TRANSACTION` lines is one transaction. A larger one is first
    stored `calculating` with its line chunks, its guard and its exceptions (one transaction),
    so its lines are fixed before any line item is written; the line items follow, then the
    run becomes `calculated`. A crash in between leaves a `calculating` run, which calculating
    the same event again completes (the same line ids and content, no duplicates or strays).
    Runs of more than `SYNC_LINES` lines answer 202 once `calculating` is stored and finish
    in an asynchronous invocation (`run_completion`).
    """
    request = parse(CalculateIn, body)
    asset = live_asset(actor, request.asset_id)
    event_record_id = f"{request.asset_id}:{request.cash_flow_event_id}"
    event = store.one(actor.tenant, CASH_FLOW_EVENTS, event_record_id)
    if event is None:
        raise validation_error([Violation("cash_flow_event_id", "unknown-reference",
                                          f"cash-flow event {request.cash_flow_event_id} does not exist in asset "
                                          f"{request.asset_id}")])
    live_run = store.current(actor.tenant, LIVE_RUNS, [event_record_id])[event_record_id]
    if live_run is not None:
        return _resume(actor, request.cash_flow_event_id, live_run["holder"])
    holdings, holders = _holdings(actor, request.asset_id, event["record_date"])
    if not holdings or not any(units > 0 for units in holdings.values()):
        raise validation_error([Violation("cash_flow_event_id", "no-units",
                                          f"no holder of asset {request.asset_id} holds units on the record date "
                                          f"{event['record_date']}")])
    exponent = minor_unit_exponent(event["currency"])
    assert exponent is not None  # an asset's currency always has a minor unit
    allocation = allocate(Decimal(event["amount"]), exponent, holdings)
    if len(allocation.lines) > MAX_RUN_LINES:
        raise validation_error([Violation("asset_id", "too-many-holders",
                                          f"a run pays at most {MAX_RUN_LINES} holders; this one would pay "
                                          f"{len(allocation.lines)}")])
    run_id = f"run_{uuid.uuid4().hex[:20]}"
    lines = [{
        "line_id": f"{run_id}:{line.holder_id}", "run_id": run_id, "asset_id": request.asset_id,
        "holder_id": line.holder_id, "units": line.units, "ownership_percentage": line.ownership_percentage,
        "amount": line.amount, "currency": event["currency"],
    } for line in allocation.lines]
    exceptions = _detect(lines, {line["holder_id"]: holders[line["holder_id"]] for line in lines},
                         allocation.total_units, asset)
    in_one_transaction = len(lines) <= LINES_IN_RUN_TRANSACTION
    run = {
        "run_id": run_id, "asset_id": request.asset_id, "cash_flow_event_id": request.cash_flow_event_id,
        "status": (RunStatus.CALCULATED if in_one_transaction else RunStatus.CALCULATING).value,
        "record_date": event["record_date"], "payment_date": event["payment_date"],
        "total_units": allocation.total_units, "total_amount": Decimal(event["amount"]),
        "currency": event["currency"], "calculated_by": actor.key_id,
        "line_count": len(lines), **_stored_exceptions(exceptions), "deleted": False,
    }
    now = system_time()
    context = actor.context()
    items = [
        *store.version_items(context, [_write(DISTRIBUTION_RUNS, run_id, run, None)], now),
        store.guard_put(actor.tenant, LIVE_RUNS, event_record_id, run_id),
        _live_check(actor.tenant, ASSETS, request.asset_id),
        *store.chunk_puts(context, run_id, lines),
    ]
    if in_one_transaction:
        items += [event_put(run_update(actor.tenant, run, 1, actor.request_id, now), now, actor.key_id),
                  *store.line_puts(context, lines, now)]
    try:
        store.transact(items)
    except WriteConflict:
        raise _second_run(request.cash_flow_event_id, None) from None
    stored = _stamped(run, None, now)
    exception_views = [e.as_dict() for e in exceptions]
    if in_one_transaction:
        return _calculated(stored, lines, exception_views)
    return _complete(actor, stored, lines, exception_views)


def _resume(actor: Actor, event_id: str, run_id: str) -> Answer:
    """Calculating an event again: completes its `calculating` run; any other live run is 409."""
    run = store.one(actor.tenant, DISTRIBUTION_RUNS, run_id)
    if run is None or run["status"] != RunStatus.CALCULATING:
        raise _second_run(event_id, run_id)
    lines, _ = store.run_lines(actor.tenant, run)
    return _complete(actor, run, lines, run.get("exceptions", []))


def _complete(actor: Actor, run: dict[str, Any], lines: list[dict[str, Any]],
              exception_views: list[dict[str, Any]]) -> Answer:
    if len(lines) > SYNC_LINES:
        run_completion.finish_later(actor.tenant, run["run_id"], actor.key_id, actor.request_id)
        return Answer(202, _run_answer(run, lines, exception_views))
    return _calculated(finish_calculation(actor.context(), run["run_id"]), lines, exception_views)


def _calculated(run: dict[str, Any], lines: list[dict[str, Any]], exception_views: list[dict[str, Any]]) -> Answer:
    return Answer(201, _run_answer(run, lines, exception_views))


def _run_answer(run: dict[str, Any], lines: list[dict[str, Any]],
                exception_views: list[dict[str, Any]]) -> dict[str, Any]:
    return {"distribution_run": {k: v for k, v in run.items() if k not in _INTERNAL_RUN_FIELDS},
            "distribution_lines": [_line_view(line) for line in lines], "exceptions": exception_views}


_INTERNAL_RUN_FIELDS = ("deleted", "exceptions", "exception_counts", "line_count")


def finish_calculation(context: EventContext, run_id: str) -> dict[str, Any]:
    """Write a `calculating` run's line items from its chunks, then mark it `calculated` (with
    its outgoing event) under a lock on its version. Safe to repeat and to run concurrently:
    the line items are rewritten identically, and of two markings one wins and the other
    finds the run calculated. Answers the run as stored."""

    def attempt() -> dict[str, Any]:
        run = store.one(context.tenant, DISTRIBUTION_RUNS, run_id)
        if run is None:
            raise _not_found("distribution run", run_id)
        if run["status"] != RunStatus.CALCULATING:
            return run
        lines, request_id = store.run_lines(context.tenant, run)
        store.write_lines(EventContext(context.tenant, request_id, run["calculated_by"], None), lines,
                          run["created_at"])
        record = {**{k: v for k, v in run.items() if k not in _META}, "status": RunStatus.CALCULATED.value}
        now = system_time()
        store.transact([
            *store.version_items(context, [_write(DISTRIBUTION_RUNS, run_id, record, run)], now),
            event_put(run_update(context.tenant, record, int(run["version"]) + 1, context.event_id, now), now,
                      context.changed_by),
        ])
        return _stamped(record, run, now)

    return retry_on_conflict(attempt, _busy)


def _stored_exceptions(exceptions: list[run_exceptions.RunException]) -> dict[str, Any]:
    kept, counts = run_exceptions.stored(exceptions)
    return {"exceptions": kept, "exception_counts": counts}


def _second_run(event_id: str, run_id: str | None) -> DomainError:
    which = f" ({run_id})" if run_id else ""
    return conflict(f"cash-flow event {event_id} already has a run that is not canceled{which}; cancel it first",
                    "cash_flow_event_id", "live-run-exists")


def _line_view(line: dict[str, Any]) -> dict[str, Any]:
    return {k: line[k] for k in ("holder_id", "units", "ownership_percentage", "amount")}


def _holders_of(actor: Actor, asset_id: str, holder_ids: list[str]) -> dict[str, dict[str, Any] | None]:
    found = store.current(actor.tenant, HOLDERS, [holder_record_id(asset_id, h) for h in holder_ids])
    return {holder_id: found[holder_record_id(asset_id, holder_id)] for holder_id in holder_ids}


def _detect(lines: list[dict[str, Any]], holders: dict[str, dict[str, Any] | None], total_units: Decimal,
            asset: dict[str, Any]) -> list[run_exceptions.RunException]:
    views = [run_exceptions.LineView(line["holder_id"], Decimal(line["amount"])) for line in lines]
    asset_units = asset.get("total_units")
    return run_exceptions.detect(views, holders, Decimal(total_units),
                                 Decimal(asset_units) if asset_units is not None else None)


def _run(actor: Actor, run_id: str) -> dict[str, Any]:
    run = store.one(actor.tenant, DISTRIBUTION_RUNS, run_id) if ID_PATTERN.fullmatch(run_id) else None
    if run is None:
        raise _not_found("distribution run", run_id)
    return run


def _lines(actor: Actor, run: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's lines by holder_id, read consistently from its chunks (right after calculation
    too: the owner index, which lags, is never read here)."""
    lines, _ = store.run_lines(actor.tenant, run)
    return sorted(lines, key=lambda line: line["holder_id"])


def get_run(actor: Actor, run_id: str) -> dict[str, Any]:
    run = _run(actor, run_id)
    exceptions = run.get("exceptions", [])
    view = {k: v for k, v in run.items() if k not in ("deleted", "exceptions")}
    return {"distribution_run": view, "distribution_lines": [_line_view(line) for line in _lines(actor, run)],
            "exceptions": exceptions}


def _change_state(actor: Actor, run_id: str, action: RunAction,
                  check: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Answer:
    """Move a run to its next state under a lock on the version it was read at."""

    def attempt() -> Answer:
        current = _run(actor, run_id)
        target = next_status(RunStatus(current["status"]), action)
        if target is None:
            return Answer(200, _run_view(current))
        extra_fields = check(current) if check else {}
        record = {**{k: v for k, v in current.items() if k not in _META}, "status": target.value, **extra_fields}
        version = int(current["version"]) + 1
        now = system_time()
        items = [
            *store.version_items(actor.context(), [_write(DISTRIBUTION_RUNS, run_id, record, current)], now),
            event_put(run_update(actor.tenant, record, version, actor.request_id, now), now, actor.key_id),
        ]
        if target is RunStatus.CANCELED:
            guard_id = f"{current['asset_id']}:{current['cash_flow_event_id']}"
            items.append(store.guard_delete(actor.tenant, LIVE_RUNS, guard_id, run_id))
        store.transact_in_chunks(items)
        return Answer(200, _run_view(_stamped(record, current, now)))

    return _retry(attempt)


def _run_view(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k != "deleted"}


def approve(actor: Actor, run_id: str) -> Answer:
    def check(run: dict[str, Any]) -> dict[str, Any]:
        if run["calculated_by"] == actor.key_id:
            raise DomainError("maker-checker", "The key that calculated a run cannot approve it; approve it with "
                                               "another key.")
        exceptions = _detect_for(actor, run)
        blocking = run_exceptions.blocking(exceptions)
        if blocking:
            error = DomainError("blocking-exceptions", f"The run has {len(blocking)} blocking exception"
                                                       f"{'s' if len(blocking) != 1 else ''}; fix them and approve "
                                                       f"again.")
            error.violations = [Violation(f"holder {e.holder_id}" if e.holder_id else "run", e.code, e.detail)
                                for e in blocking]
            raise error
        return {"approved_by": actor.key_id, **_stored_exceptions(exceptions)}

    return _change_state(actor, run_id, RunAction.APPROVE, check)


def cancel(actor: Actor, run_id: str) -> Answer:
    return _change_state(actor, run_id, RunAction.CANCEL)


def mark_exported(actor: Actor, run_id: str) -> Answer:
    return _change_state(actor, run_id, RunAction.MARK_EXPORTED)


def _detect_for(actor: Actor, run: dict[str, Any]) -> list[run_exceptions.RunException]:
    lines = _lines(actor, run)
    asset = store.one(actor.tenant, ASSETS, run["asset_id"]) or {}
    holders = _holders_of(actor, run["asset_id"], [line["holder_id"] for line in lines])
    return _detect(lines, holders, Decimal(run["total_units"]), asset)


def detect_exceptions(actor: Actor, run_id: str) -> Answer:
    """Detect again on current holder data and store the result on the run (a new version)."""

    def attempt() -> Answer:
        current = _run(actor, run_id)
        exceptions = _detect_for(actor, current)
        kept = _stored_exceptions(exceptions)
        if any(current.get(name) != value for name, value in kept.items()):
            record = {**{k: v for k, v in current.items() if k not in _META}, **kept}
            store.commit(actor.context(), [_write(DISTRIBUTION_RUNS, run_id, record, current)])
        return Answer(200, {"exceptions": [e.as_dict() for e in exceptions]})

    return _retry(attempt)


def payment_file(actor: Actor, run_id: str) -> tuple[str, str]:
    """(CSV text, file name) of an approved or exported run, with holders' current payment details."""
    run = _run(actor, run_id)
    require_status(RunStatus(run["status"]), PAYABLE, "the payment file")
    lines = _lines(actor, run)
    holders = _holders_of(actor, run["asset_id"], [line["holder_id"] for line in lines])
    exponent = minor_unit_exponent(run["currency"])
    assert exponent is not None
    text = files.payment_file(run_id, run["currency"], exponent,
                              [(line["holder_id"], Decimal(line["amount"])) for line in lines],
                              {holder_id: holder or {} for holder_id, holder in holders.items()})
    return text, files.payment_file_name(run_id)


# notices ----------------------------------------------------------------------------------


def generate_notices(actor: Actor, run_id: str) -> Answer:
    """One notice per paid line; notices that exist already stay as they are.

    A run of up to `SYNC_LINES` paid lines is done in one request, which answers all its
    notices. A larger one is done in slices of `NOTICES_PER_REQUEST`: each request generates the
    next slice and answers it with how many are still `remaining`, so the client calls again
    until none remain (every request stays far inside the time and response size limits).
    """

    def attempt() -> Answer:
        run = _run(actor, run_id)
        require_status(RunStatus(run["status"]), PAYABLE, "generating notices")
        paid = [line for line in _lines(actor, run) if Decimal(line["amount"]) > 0]
        existing = store.current(actor.tenant, NOTICES, [notice_id(run_id, line["holder_id"]) for line in paid])
        missing = [line for line in paid if existing[notice_id(run_id, line["holder_id"])] is None]
        sliced = len(paid) > SYNC_LINES
        now_missing = missing[:NOTICES_PER_REQUEST] if sliced else missing
        if now_missing:
            asset = store.one(actor.tenant, ASSETS, run["asset_id"]) or {"asset_id": run["asset_id"], "name": ""}
            event = store.one(actor.tenant, CASH_FLOW_EVENTS, f"{run['asset_id']}:{run['cash_flow_event_id']}") or {}
            holders = _holders_of(actor, run["asset_id"], [line["holder_id"] for line in now_missing])
            exponent = minor_unit_exponent(run["currency"])
            assert exponent is not None
            writes = [_write(NOTICES, notice_id(run_id, line["holder_id"]),
                             {**build_notice(run, line, holders[line["holder_id"]] or {}, asset,
                                             {"payment_date": event.get("payment_date", run.get("payment_date", ""))},
                                             exponent), "deleted": False}, None)
                      for line in now_missing]
            store.commit_in_chunks(actor.context(), writes, WRITES_PER_TRANSACTION)
        if sliced:
            return Answer(200, {"notices": _notices(actor, run_id, now_missing),
                                "remaining": len(missing) - len(now_missing)})
        return Answer(200, {"notices": _notices(actor, run_id, paid)})

    return _retry(attempt)


def _notices(actor: Actor, run_id: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = store.current(actor.tenant, NOTICES, [notice_id(run_id, line["holder_id"]) for line in lines])
    return [public(notice) for _, notice in sorted(found.items()) if notice is not None]


def mark_sent(actor: Actor, run_id: str, body: Any) -> Answer:
    request = parse(MarkSentIn, body if body is not None else {})

    def attempt() -> Answer:
        run = _run(actor, run_id)
        paid = [line for line in _lines(actor, run) if Decimal(line["amount"]) > 0]
        notices = {n["notice_id"]: n for n in _notices(actor, run_id, paid)}
        if not notices:
            raise conflict(f"run {run_id} has no notices yet; generate them first", "run_id", "no-notices")
        wanted = request.notice_ids if request.notice_ids is not None else sorted(notices)
        unknown = [Violation(f"notice_ids[{i}]", "unknown-reference", f"notice {n} is not a notice of run {run_id}")
                   for i, n in enumerate(wanted) if n not in notices]
        require(unknown)
        now = system_time()
        pending = [n for n in dict.fromkeys(wanted) if notices[n]["status"] != "sent"]
        sliced = len(paid) > SYNC_LINES
        now_pending = pending[:NOTICES_PER_REQUEST] if sliced else pending
        writes = [_write(NOTICES, n, {**{k: v for k, v in notices[n].items() if k not in _META}, "deleted": False,
                                      "status": "sent", "sent_at": now}, notices[n])
                  for n in now_pending]
        store.commit_in_chunks(actor.context(), writes, WRITES_PER_TRANSACTION)
        if sliced:
            marked = store.current(actor.tenant, NOTICES, now_pending)
            return Answer(200, {"notices": [public(marked[n]) for n in sorted(now_pending) if marked[n]],
                                "remaining": len(pending) - len(now_pending)})
        return Answer(200, {"notices": _notices(actor, run_id, paid)})

    return _retry(attempt)


__all__ = ["Actor", "Answer", "WriteConflict"]
