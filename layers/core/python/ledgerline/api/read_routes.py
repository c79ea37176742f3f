"""GET /api/tables/...: records, pages, history, as-of and changes, always inside the caller's tenant."""


from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ledgerline.api import cursor as cursors
from ledgerline.api.caller import caller_from
from ledgerline.api.http import json_response
from ledgerline.api.models import AsOf, Changes, History, RecordItem, RecordPage, TableList, answers
from ledgerline.api.problems import ProblemError
from ledgerline.domain import temporal
from ledgerline.domain.errors import Violation
from ledgerline.domain.tables import READABLE, TABLES, Filter
from ledgerline.domain.values import ID_PATTERN, format_timestamp, instant, parse_when
from ledgerline.observability import tracer
from ledgerline.store import reads
from ledgerline.store.keys import system_time

router = APIGatewayRouter()
MAX_PAGE = 500
# The enum documents the names; an unknown one is still answered by `_table` (404 with the list).
TableName = Annotated[str, Path(description="one of the readable tables (GET /api/tables)",
                                json_schema_extra={"enum": list(READABLE)})]
RecordId = Annotated[str, Path(description="the record's id")]


def _tenant() -> str:
    return caller_from(router.current_event.raw_event.get("requestContext"), "read").tenant_id


def _table(table: str) -> str:
    if table not in READABLE:
        raise ProblemError("not-found", f"Unknown table '{table}'.", tables=list(READABLE))
    return table


def _when(name: str, value: str) -> str:
    """A date or timestamp parameter, normalised; 400 when it is neither."""
    try:
        return parse_when(value)[0]
    except ValueError:
        raise ProblemError("validation-error", f"{name} is not a date.", status=400, errors=[
            Violation(name, "invalid-date", "must be an ISO 8601 date or timestamp").as_dict()]) from None


def _not_found(table: str, record_id: str) -> ProblemError:
    return ProblemError("not-found", f"No record '{record_id}' in table '{table}'.")


def _versions(tenant: str, table: str, record_id: str) -> list[dict]:
    """Every version of a record of the caller's tenant; 404 when there is no such record."""
    versions = reads.record_versions(tenant, _table(table), record_id)
    if versions is None:
        raise _not_found(table, record_id)
    return versions


@router.get("/api/tables", summary="List the readable tables", tags=["read"], responses=answers(TableList))
def list_tables():
    _tenant()
    return json_response({"tables": list(READABLE)})


@router.get("/api/tables/<table>", summary="Page through a table in update order", tags=["read"],
            responses=answers(RecordPage, 400, 404))
@tracer.capture_method
def list_table(
    table: TableName,
    limit: Annotated[int, Query(ge=1, description=f"page size, at most {MAX_PAGE}")] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    updated_since: Annotated[str | None, Query(description="only records updated at or after")] = None,
    disbursement_id: Annotated[str | None, Query(description="only this disbursement's records")] = None,
    client_id: Annotated[str | None, Query(description="only this client's records")] = None,
):
    tenant = _tenant()
    _table(table)
    filters = {"disbursement_id": disbursement_id, "client_id": client_id, "updated_since": updated_since}
    violations = [
        Violation(name, "not-allowed", f"does not apply to {table}")
        for name in Filter
        if filters[name] is not None and name not in TABLES[table].filters
    ] + [
        Violation(name, "invalid-id", "must be a valid id")
        for name in Filter
        if filters[name] is not None and not ID_PATTERN.fullmatch(filters[name])
    ]
    if violations:
        raise ProblemError("validation-error", "A filter does not apply.", status=400,
                           errors=[v.as_dict() for v in violations])
    since = system_time(instant(_when("updated_since", updated_since))) if updated_since else None
    start_key = cursors.decode(cursor, tenant, table, filters) if cursor else None
    page = reads.list_records(tenant, table, limit=min(limit, MAX_PAGE), start_key=start_key,
                              updated_since=since, disbursement_id=disbursement_id, client_id=client_id)
    next_cursor = cursors.encode(tenant, table, filters, page.last_key) if page.last_key else None
    return json_response({"table": table, "items": page.items, "next_cursor": next_cursor})


@router.get("/api/tables/<table>/<id>", summary="One record", tags=["read"],
            responses=answers(RecordItem, 404))
@tracer.capture_method
def get_record(table: TableName, id: RecordId):
    record = reads.get_record(_tenant(), _table(table), id)
    if record is None:
        raise _not_found(table, id)
    return json_response({"table": table, "item": record})


@router.get("/api/tables/<table>/<id>/history", summary="Every version, newest first", tags=["history"],
            responses=answers(History, 400, 404))
@tracer.capture_method
def get_history(
    table: TableName,
    id: RecordId,
    limit: Annotated[int, Query(ge=1, description=f"versions per page, at most {MAX_PAGE}")] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
):
    entries = temporal.history(_versions(_tenant(), table, id))
    return json_response({"table": table, "id": id, "total_versions": len(entries),
                          "history": entries[offset:offset + min(limit, MAX_PAGE)]})


@router.get("/api/tables/<table>/<id>/as-of/<date>", summary="The record as of a date",
            tags=["history"], responses=answers(AsOf, 400, 404))
@tracer.capture_method
def get_as_of(
    table: TableName,
    id: RecordId,
    date: Annotated[str, Path(description="valid date or timestamp")],
    known_at: Annotated[str | None, Query(description="system time of the knowledge; default now")] = None,
):
    tenant = _tenant()
    valid_at = _when("date", date)
    known = _when("known_at", known_at) if known_at else format_timestamp(datetime.now(UTC))
    found = temporal.as_of(_versions(tenant, table, id), valid_at, known)
    if found is None:
        raise ProblemError("not-found", f"'{id}' did not exist in '{table}' at {valid_at} "
                                        f"as known at {known}.")
    return json_response({"table": table, "id": id, "as_of": valid_at, "known_at": known, **found})


@router.get("/api/tables/<table>/<id>/changes", summary="Per-field changes stored in a period",
            tags=["history"], responses=answers(Changes, 400, 404))
@tracer.capture_method
def get_changes(
    table: TableName,
    id: RecordId,
    since: Annotated[str | None, Query(alias="from", description="system time, inclusive")] = None,
    until: Annotated[str | None, Query(alias="to", description="system time, inclusive")] = None,
):
    tenant = _tenant()
    low = _when("from", since) if since else None
    high = _when("to", until) if until else None
    changes = temporal.changes(_versions(tenant, table, id), low, high)
    return json_response({"table": table, "id": id, "changes": changes})
