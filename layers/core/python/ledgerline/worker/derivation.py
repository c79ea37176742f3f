"""Derivation: the create-once rows of a change, and a disbursement's recomputed status and
statement, each written with the outgoing_events rows of its events (which the stream
publishes, `worker.publishing`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledgerline import posting
from ledgerline.domain.derive import Cause, Recomputed, disbursement_of, operation_of, recompute, rows_of_change
from ledgerline.domain.derive.common import Row
from ledgerline.domain.derive.recompute import applies_as_of
from ledgerline.domain.tables import DISBURSEMENT_STATUS, DISBURSEMENTS, PAYMENTS
from ledgerline.events.outgoing import Outgoing, outgoing_for
from ledgerline.observability import count, logger
from ledgerline.store import derived, outgoing
from ledgerline.store.keys import system_time
from ledgerline.store.records import STATED_EFFECTIVE_AT, WriteConflict, put_once
from ledgerline.store.retry import RetryNow, retry_on_conflict


class Unprocessable(Exception):
    """A stream record the worker cannot make sense of (it will end in the dead-letter queue)."""


def derive(new_item: dict[str, Any], old_item: dict[str, Any] | None, today: date) -> None:
    try:
        tenant, table, new = new_item["tenant"], new_item["table"], new_item["record"]
        old = (old_item or {}).get("record")
        cause = Cause(table, new_item["id"], int(new_item["version"]), new_item["event_id"],
                      new_item["valid_from"], new_item["system_from"], operation_of(old, new),
                      new_item.get(STATED_EFFECTIVE_AT))
    except (KeyError, TypeError, ValueError) as error:
        raise Unprocessable(f"not a current record item: {error!r}") from error
    rows = rows_of_change(table, old, new, new_item.get("change"), cause)
    if rows:
        create_once(tenant, rows, cause)
    disbursement_id = disbursement_of(table, new)
    if disbursement_id:
        recompute_disbursement(tenant, disbursement_id, cause, today, trigger=(table, new))
    posting.journal_change(tenant, new_item, old_item)


def create_once(tenant: str, rows: list[Row], cause: Cause) -> bool:
    """Write rows that exist once per cause, each followed by its event; False if all existed.

    Each row and each event is one item, written by its own conditional put: nothing here must
    change together, and a put refused because the item exists (a redelivered record, or one
    that failed half-way) is simply done already, so a retry completes what is missing.
    """
    now = system_time()
    written = 0
    for row in rows:
        [put] = derived.row_items(tenant, row, cause.event_id, cause.valid_from, None, now)
        written += put_once(put)
        outgoing.emit([outgoing_for(tenant, row, 1, cause)], now)
    if written:
        count("DerivedRows", written)
    else:
        logger.info("derived rows already written", extra={"cause": cause.as_record()})
    return bool(written)


def recompute_disbursement(
    tenant: str,
    disbursement_id: str,
    cause: Cause,
    today: date,
    trigger: tuple[str, dict[str, Any]] | None = None,
) -> Recomputed | None:
    """Recompute and store one disbursement's status and statement; None if it does not exist.

    The statements record's version is the lock: two workers recomputing the same disbursement
    (parallel shards, the sweep) cannot both write; the loser reloads and recomputes.
    """
    done_status_rows: set[str] = set()

    def attempt() -> Recomputed | None:
        disbursement_item, statement_item = derived.load_state(tenant, disbursement_id)
        if disbursement_item is None:
            logger.warning("disbursement not found", extra={"disbursement_id": disbursement_id})
            return None
        disbursement = disbursement_item["record"]
        payments = derived.payments_of(tenant, disbursement_id)
        stored = statement_item["record"] if statement_item else None
        trigger_table, trigger_record = trigger or (None, None)
        at_cause = trigger_record if trigger_table == DISBURSEMENTS else None
        if at_cause is None and applies_as_of(stored, cause) and disbursement["updated_at"] > cause.system_from:
            # changed since the cause: take the version that was current then
            at_cause = derived.version_as_of(tenant, DISBURSEMENTS, disbursement_id, cause.system_from)
        payment = trigger_record if trigger_table == PAYMENTS else None
        result = recompute(disbursement, payments, stored, today, cause, at_cause, payment)
        if result.status_change is not None and result.status_change.id in done_status_rows:
            result.status_change = None
        if not result.rows:
            return result
        items, status_items = _recompute_items(tenant, disbursement_id, result, statement_item, cause)
        try:
            derived.commit(items)
        except WriteConflict as conflict:
            codes = conflict.args[0] if conflict.args and isinstance(conflict.args[0], list) else []
            if result.status_change is not None and _only_failed(codes, status_items):
                # This cause already wrote this status row: the status went away and came back
                # since. The row stays as it is; the statement is still to be written.
                done_status_rows.add(result.status_change.id)
                raise RetryNow() from conflict
            raise
        count("DerivedRows", len(result.rows))
        return result

    return retry_on_conflict(attempt, lambda: WriteConflict(f"gave up recomputing disbursement {disbursement_id}"))


def _recompute_items(
    tenant: str, disbursement_id: str, result: Recomputed, statement_item: dict[str, Any] | None, cause: Cause
) -> tuple[list[dict[str, Any]], set[int]]:
    """The transaction items and the positions of the status row's own items (its
    one item and its event's outgoing_events row).

    One transaction, because these must change together: the statement's version and current
    item (its version is the lock), the status row decided against that statement, the events
    announcing both, and the sweep's due entry that the statement decides."""
    now = system_time()
    items: list[dict[str, Any]] = []
    events: list[Outgoing] = []
    status_items: set[int] = set()
    version = int(statement_item["version"]) if statement_item else 0
    if result.statement is not None:
        items += derived.row_items(tenant, result.statement, cause.event_id, cause.valid_from, statement_item, now)
        events.append(outgoing_for(tenant, result.statement, version + 1, cause))
    if result.status_change is not None:
        status_items = {len(items)}
        items += derived.row_items(tenant, result.status_change, cause.event_id, cause.valid_from, None, now)
        events.append(outgoing_for(tenant, result.status_change, 1, cause))
    for event in events:
        if event.subject["table"] == DISBURSEMENT_STATUS:
            status_items.add(len(items))
        items.append(outgoing.event_put(event, now))
    items += derived.due_moves(result.sweep_before, result.sweep_after, tenant, disbursement_id)
    return items, status_items


def _only_failed(codes: list[Any], indexes: set[int]) -> bool:
    failed = {i for i, code in enumerate(codes) if code not in (None, "None")}
    return bool(failed) and failed <= indexes and all(codes[i] == "ConditionalCheckFailed" for i in failed)
