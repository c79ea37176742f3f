"""Outgoing events: ids, the envelope (the event's detail), the EventBridge entry, the log row.

Pure. An event announces one derived row version; its id is a hash of (tenant, table, row id,
row version), so the same cause always yields the same event id, however often it is replayed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ledgerline.domain.derive.common import (
    ASSET_EVENT,
    CHANGE_EVENT,
    STATEMENT_EVENT,
    STATUS_EVENT,
    Cause,
    Row,
)
from ledgerline.domain.jsonio import dumps
from ledgerline.domain.tables import DISTRIBUTION_RUNS, OUTGOING_EVENTS, STATEMENTS

SOURCE = "ledgerline"
SCHEMA_VERSION = 1
RUN_EVENT = "distribution_run_update_outgoing"
EVENT_NAMES = (STATUS_EVENT, CHANGE_EVENT, ASSET_EVENT, STATEMENT_EVENT, RUN_EVENT)
# What each run state change is called in the event's message.
_RUN_MESSAGES = {"calculated": "calculated", "approved": "approved", "exported": "marked exported",
                 "canceled": "canceled"}


def event_id(tenant: str, table: str, row_id: str, version: int) -> str:
    digest = hashlib.sha256(f"{tenant}\n{table}\n{row_id}\n{version}".encode()).hexdigest()
    return f"oe_{digest[:32]}"


@dataclass(frozen=True)
class Outgoing:
    """One event to publish: what its outgoing_events row holds (`store.outgoing`)."""

    tenant: str
    event_id: str
    name: str
    schema_version: int
    detail: dict[str, Any]
    subject: dict[str, Any]  # the derived row it announces: table, id, version
    disbursement_id: str | None
    cause: dict[str, Any]

    def as_item(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant, "event_id": self.event_id, "name": self.name,
            "schema_version": self.schema_version, "detail": self.detail, "subject": self.subject,
            "disbursement_id": self.disbursement_id, "cause": self.cause,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Outgoing:
        return cls(
            tenant=item["tenant"], event_id=item["event_id"], name=item["name"],
            schema_version=int(item["schema_version"]), detail=item["detail"], subject=item["subject"],
            disbursement_id=item.get("disbursement_id"), cause=item["cause"],
        )


def outgoing_for(tenant: str, row: Row, version: int, cause: Cause) -> Outgoing:
    """The event announcing version `version` of a derived row."""
    identifier = event_id(tenant, row.table, row.id, version)
    entity = dict(row.entity) if row.entity else {k: v for k, v in row.record.items() if k != "deleted"}
    if row.table == STATEMENTS:
        entity["version"] = version  # lets a subscriber drop a statement older than one it has
    detail = {
        "event_id": identifier,
        "tenant": tenant,
        "operation": cause.operation,
        "status": "SUCCESS",
        "message": row.message,
        "ingest": {"id": cause.event_id, "version_date": cause.system_from},
        "entity": entity,
    }
    return Outgoing(
        tenant=tenant, event_id=identifier, name=row.event, schema_version=SCHEMA_VERSION, detail=detail,
        subject={"table": row.table, "id": row.id, "version": version},
        disbursement_id=row.record.get("disbursement_id"), cause=cause.as_record(),
    )


def run_update(tenant: str, run: dict[str, Any], version: int, request_id: str, system_from: str) -> Outgoing:
    """The event announcing a distribution run's state change (its version `version`)."""
    identifier = event_id(tenant, DISTRIBUTION_RUNS, run["run_id"], version)
    entity = {k: v for k, v in run.items() if k not in ("deleted", "exceptions", "exception_counts")}
    entity["version"] = version
    detail = {
        "event_id": identifier,
        "tenant": tenant,
        "operation": "CREATION" if version == 1 else "UPDATE",
        "status": "SUCCESS",
        "message": f"Distribution run {run['run_id']} {_RUN_MESSAGES[run['status']]}",
        "ingest": {"id": request_id, "version_date": system_from},
        "entity": entity,
    }
    return Outgoing(
        tenant=tenant, event_id=identifier, name=RUN_EVENT, schema_version=SCHEMA_VERSION, detail=detail,
        subject={"table": DISTRIBUTION_RUNS, "id": run["run_id"], "version": version}, disbursement_id=None,
        cause={"table": DISTRIBUTION_RUNS, "id": run["run_id"], "version": version, "event_id": request_id},
    )


def put_events_entry(event: Outgoing, bus_name: str) -> dict[str, Any]:
    """The PutEvents entry: source `ledgerline`, detail-type = the event name, detail = the envelope."""
    return {
        "Source": SOURCE,
        "DetailType": event.name,
        "Detail": dumps(event.detail),
        "EventBusName": bus_name,
    }


def log_record(event: Outgoing, published_at: str) -> dict[str, Any]:
    """The `outgoing_events` row of an event (immutable: always its version 1). `published_at` is
    when the event was committed for publishing: the row's stream record takes it to the bus
    moments later (`store.outgoing`)."""
    record = {
        "event_id": event.event_id,
        "name": event.name,
        "schema_version": event.schema_version,
        "detail": event.detail,
        "subject": event.subject,
        "cause": event.cause,
        "published_at": published_at,
        "deleted": False,
    }
    if event.disbursement_id:
        record["disbursement_id"] = event.disbursement_id
    return record


__all__ = ["EVENT_NAMES", "OUTGOING_EVENTS", "RUN_EVENT", "SCHEMA_VERSION", "SOURCE", "Outgoing", "event_id",
           "log_record", "outgoing_for", "put_events_entry", "run_update"]
