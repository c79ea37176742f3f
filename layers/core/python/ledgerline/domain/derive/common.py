"""What every derivation shares: the cause of a derived row, the row itself, date helpers.

Pure: no AWS, no clock. The worker hands in the stream record's images and the processing
date; the functions here answer with rows, and the worker writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# The four outgoing event kinds (schemas/events/<name>-<version>.json).
STATUS_EVENT = "disbursement_status_update_outgoing"
CHANGE_EVENT = "disbursement_change_outgoing"
ASSET_EVENT = "asset_status_update_outgoing"
STATEMENT_EVENT = "disbursement_balance_statement_update_outgoing"

SWEEP = "sweep"  # the cause table of rows the daily sweep writes


@dataclass(frozen=True)
class Cause:
    """The source change a derived row comes from: one version of one source record, or a sweep run.

    `operation` is what that change did to its record (CREATION, UPDATE, DELETION); `valid_from`
    and `system_from` are its valid and system times; `effective_at` is set when the partner
    stated the valid time on the event (it then wins over dates derived from the data).
    """

    table: str
    id: str
    version: int | None
    event_id: str
    valid_from: str
    system_from: str
    operation: str = "UPDATE"
    effective_at: str | None = None

    @classmethod
    def sweep(cls, today: date, system_from: str) -> Cause:
        """The daily sweep run of `today` (processing date)."""
        return cls(SWEEP, today.isoformat(), None, f"sweep_{today.isoformat()}", today.isoformat(), system_from)

    def as_record(self) -> dict[str, Any]:
        return {"table": self.table, "id": self.id, "version": self.version, "event_id": self.event_id}

    def row_id(self, subject_id: str) -> str:
        """A derived row's id: its subject (disbursement or asset) and this cause. Never holds '#'."""
        if self.version is None:
            return f"{subject_id}~{self.table}~{self.id}"
        return f"{subject_id}~{self.table}~{self.id}~v{self.version}"


@dataclass
class Row:
    """A derived record to store as a new record of `table` (or a new version, for statements),
    and the outgoing event announcing it."""

    table: str
    id: str
    record: dict[str, Any]
    event: str
    message: str
    entity: dict[str, Any] = field(default_factory=dict)


def day(value: str | None) -> date | None:
    """The calendar day of a normalised date or timestamp (`2025-01-12`, `2025-01-12T10:00:00Z`)."""
    return date.fromisoformat(value[:10]) if value else None


def operation_of(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """CREATION, UPDATE or DELETION: what a change did to a source record."""
    if old is None and int(new.get("version") or 1) <= 1:
        return "CREATION"
    if new.get("deleted") and not (old or {}).get("deleted"):
        return "DELETION"
    return "UPDATE"
