"""The worker's reports step: one source change -> its lines, totals, position, portfolio facts or
client movement, written once.

Called by the stream worker for every current-item change of a client, disbursement, payment or
operation (old and new image). The posting rules are `domain.journal.post`; this reads what
they need (the disbursement's position and kind) and writes the result in one transaction
(`store.journal.write`). A redelivered change finds its lines written and does nothing; a
change whose rule read the position retries when a concurrent change moved it. A change of a
disbursement or payment that moves what the portfolio reads also sets its version's facts on the
disbursement's portfolio item (`store.portfolio`; setting them again is harmless).
"""

from __future__ import annotations

from typing import Any

from ledgerline.domain.journal import Line, Position, Version, position_change, post, receivable_account
from ledgerline.domain.reports import client_movement, version_facts
from ledgerline.domain.tables import CLIENTS, DISBURSEMENTS, PAYMENTS
from ledgerline.observability import count, logger
from ledgerline.store import client_movements, journal, portfolio, reads
from ledgerline.store.records import AlreadyWritten, WriteConflict
from ledgerline.store.retry import retry_on_conflict


def journal_change(tenant: str, new_item: dict[str, Any], old_item: dict[str, Any] | None) -> list[Line]:
    """Post one change; returns the lines written by this call (none on a redelivery). A client's
    change posts nothing: it is recorded as a movement of the registry, once."""
    new = Version.from_item(new_item)
    old = Version.from_item(old_item) if old_item and old_item.get("record") else None
    if new.table == CLIENTS:
        if old is None or old.version != new.version:  # not a counter kept on the client's item
            client_movements.record(tenant, client_movement(old.record if old else None, new), new.version,
                                    new.system_from)
        return []
    disbursement_id = new.record.get("disbursement_id")
    if disbursement_id:
        portfolio.record(tenant, new.record["currency"], disbursement_id, version_facts(old, new))
    kind = _kind(tenant, new, disbursement_id)

    def attempt() -> list[Line]:
        lock = journal.read_position(tenant, disbursement_id) if new.table == DISBURSEMENTS else None
        lines = post(old, new, lock or Position(), kind)
        if not lines:
            return []
        position = None
        if disbursement_id:
            position = (disbursement_id, position_change(lines, receivable_account(kind)), lock)
        try:
            journal.write(tenant, lines, journal.shard_of(tenant, disbursement_id or new.id), position)
        except AlreadyWritten:
            logger.info("journal lines already written", extra={"cause": new.cause()})
            return []
        count("JournalLines", len(lines))
        return lines

    return retry_on_conflict(attempt, lambda: WriteConflict(f"gave up posting {new.cause()}"))


def _kind(tenant: str, new: Version, disbursement_id: str | None) -> str | None:
    """The disbursement's kind (`loan` | `purchase`): which receivable account its lines use."""
    if new.table == DISBURSEMENTS:
        return new.record.get("kind")
    if new.table == PAYMENTS and disbursement_id:
        disbursement = reads.get_record(tenant, DISBURSEMENTS, disbursement_id)
        return (disbursement or {}).get("kind")
    return None
