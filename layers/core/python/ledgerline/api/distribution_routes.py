"""Distribution routes (docs/distributions.md): assets, holders, positions, cash-flow events, runs.

Thin: each route checks the key's scope, reads the request and calls `ledgerline.distributions`.
Every POST, PATCH and DELETE takes an optional Idempotency-Key with /ingest's semantics
(`api.idempotent`): the first answer is stored per (tenant, key) and replayed with
`Idempotent-Replayed: true`; the same key with another request is refused (422 idempotency-key-reused).
"""

import base64
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict

from ledgerline import demo
from ledgerline import distributions as ops
from ledgerline.api import cursor as cursors
from ledgerline.api.body import MAX_BODY_BYTES, json_object_body
from ledgerline.api.caller import caller_from
from ledgerline.api.http import json_response
from ledgerline.api.idempotent import answer_once
from ledgerline.api.models import answers
from ledgerline.api.problems import ProblemError
from ledgerline.domain.jsonio import dumps
from ledgerline.domain.scopes import APPROVE, DISTRIBUTE, READ
from ledgerline.domain.tables import ASSETS, CASH_FLOW_EVENTS, HOLDERS, POSITIONS
from ledgerline.observability import tracer
from ledgerline.settings import get_settings
from ledgerline.store import reads

router = APIGatewayRouter()
MAX_PAGE = 500
CSV = "text/csv"


class JsonObject(BaseModel):
    """A JSON object; its fields are described in docs/distributions.md."""

    model_config = ConfigDict(extra="allow")


def _actor(scope: str) -> ops.Actor:
    event = router.current_event
    caller = caller_from(event.raw_event.get("requestContext"), scope)
    request_id = event.request_context.request_id or "local"
    return ops.Actor(caller.tenant_id, caller.key_id, request_id)


def _raw_body() -> bytes:
    event = router.current_event
    raw = event.body or ""
    data = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    if len(data) > MAX_BODY_BYTES:
        raise ProblemError("payload-too-large", f"The body is {len(data)} bytes; the limit is {MAX_BODY_BYTES}.")
    return data


def _json_body(optional: bool = False) -> dict[str, Any] | None:
    event = router.current_event
    if optional and not (event.body or "").strip():
        return None
    return json_object_body(event.body, event.is_base64_encoded, event.headers.get("Content-Type"))


def _change(scope: str, operation: Callable[[ops.Actor], ops.Answer], body: bytes = b"") -> Response:
    """Run a POST / PATCH / DELETE, once per Idempotency-Key when the request has one."""
    actor = _actor(scope)
    return answer_once(router.current_event, actor.tenant, "distributions", lambda: operation(actor), body)


def _json_change(scope: str, operation: Callable[[ops.Actor, Any], ops.Answer], optional: bool = False) -> Response:
    body = _json_body(optional)
    return _change(scope, lambda actor: operation(actor, body), dumps(body).encode())


# assets -----------------------------------------------------------------------------------


@router.get("/api/assets", summary="List assets", tags=["distributions"], responses=answers(JsonObject, 400))
@tracer.capture_method
def list_assets(
    limit: Annotated[int, Query(ge=1, description=f"page size, at most {MAX_PAGE}")] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
):
    actor = _actor(READ)
    start_key = cursors.decode(cursor, actor.tenant, ASSETS, {}) if cursor else None
    page = reads.list_records(actor.tenant, ASSETS, limit=min(limit, MAX_PAGE), start_key=start_key)
    next_cursor = cursors.encode(actor.tenant, ASSETS, {}, page.last_key) if page.last_key else None
    return json_response({"items": [ops.public(a) for a in page.items if not a.get("deleted")],
                          "next_cursor": next_cursor})


@router.post("/api/assets", summary="Create an asset (distribute scope)", tags=["distributions"],
             responses=answers(JsonObject, 400, 409, 413, 415, 422))
@tracer.capture_method
def create_asset():
    return _json_change(DISTRIBUTE, ops.create_asset)


@router.get("/api/assets/<asset_id>", summary="One asset", tags=["distributions"],
            responses=answers(JsonObject, 404))
@tracer.capture_method
def get_asset(asset_id: str):
    return json_response(ops.get_asset(_actor(READ), asset_id))


@router.patch("/api/assets/<asset_id>", summary="Change an asset (distribute scope)", tags=["distributions"],
              responses=answers(JsonObject, 400, 404, 413, 415, 422))
@tracer.capture_method
def update_asset(asset_id: str):
    return _json_change(DISTRIBUTE, lambda actor, body: ops.update_asset(actor, asset_id, body))


@router.delete("/api/assets/<asset_id>", summary="Delete an asset (distribute scope)", tags=["distributions"],
               responses=answers(JsonObject, 404, 409))
@tracer.capture_method
def delete_asset(asset_id: str):
    return _change(DISTRIBUTE, lambda actor: ops.delete_asset(actor, asset_id))


# holders, positions, cash-flow events -----------------------------------------------------


def _group_page(asset_id: str, table: str) -> Response:
    return json_response({"items": ops.list_group(_actor(READ), asset_id, table), "next_cursor": None})


@router.get("/api/assets/<asset_id>/holders", summary="An asset's holders", tags=["distributions"],
            responses=answers(JsonObject, 404))
@tracer.capture_method
def list_holders(asset_id: str):
    return _group_page(asset_id, HOLDERS)


@router.post("/api/assets/<asset_id>/holders", summary="Add a holder (distribute scope)", tags=["distributions"],
             responses=answers(JsonObject, 400, 404, 409, 413, 415, 422))
@tracer.capture_method
def create_holder(asset_id: str):
    return _json_change(DISTRIBUTE, lambda actor, body: ops.create_holder(actor, asset_id, body))


@router.delete("/api/assets/<asset_id>/holders/<holder_id>", summary="Delete a holder (distribute scope)",
               tags=["distributions"], responses=answers(JsonObject, 404))
@tracer.capture_method
def delete_holder(asset_id: str, holder_id: str):
    return _change(DISTRIBUTE, lambda actor: ops.delete_holder(actor, asset_id, holder_id))


@router.post("/api/assets/<asset_id>/holders/import-csv", summary="Import holders from CSV (distribute scope)",
             description="text/csv; all-or-nothing: a bad row refuses the file, listing every bad row.",
             tags=["distributions"], responses=answers(JsonObject, 400, 404, 413, 415, 422))
@tracer.capture_method
def import_holders(
    asset_id: str,
    effective_date: Annotated[str | None, Query(description="date the file's units take effect; default today")]
    = None,
):
    media_type = (router.current_event.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    content = _raw_body()
    if media_type != CSV:
        raise ProblemError("unsupported-media-type", "Send the holder file as text/csv.")
    return _change(DISTRIBUTE, lambda actor: ops.import_holders(actor, asset_id, content, effective_date), content)


@router.get("/api/assets/<asset_id>/positions", summary="Positions, or each holder's units as of a day",
            tags=["distributions"], responses=answers(JsonObject, 400, 404, 422))
@tracer.capture_method
def list_positions(
    asset_id: str,
    as_of: Annotated[str | None, Query(description="each holder's units in force that day")] = None,
):
    if as_of is None:
        return _group_page(asset_id, POSITIONS)
    return json_response({"items": ops.positions_as_of(_actor(READ), asset_id, as_of), "next_cursor": None})


@router.post("/api/assets/<asset_id>/positions", summary="Set a holder's units from a date (distribute scope)",
             tags=["distributions"], responses=answers(JsonObject, 400, 404, 413, 415, 422))
@tracer.capture_method
def create_position(asset_id: str):
    return _json_change(DISTRIBUTE, lambda actor, body: ops.create_position(actor, asset_id, body))


@router.get("/api/assets/<asset_id>/cash-flow-events", summary="An asset's cash-flow events",
            tags=["distributions"], responses=answers(JsonObject, 404))
@tracer.capture_method
def list_cash_flow_events(asset_id: str):
    return _group_page(asset_id, CASH_FLOW_EVENTS)


@router.post("/api/assets/<asset_id>/cash-flow-events", summary="Record a cash-flow event (distribute scope)",
             tags=["distributions"], responses=answers(JsonObject, 400, 404, 409, 413, 415, 422))
@tracer.capture_method
def create_cash_flow_event(asset_id: str):
    return _json_change(DISTRIBUTE, lambda actor, body: ops.create_cash_flow_event(actor, asset_id, body))


# runs -------------------------------------------------------------------------------------


@router.post("/api/distributions/calculate", summary="Calculate a distribution run (distribute scope)",
             tags=["distributions"], responses=answers(JsonObject, 400, 404, 409, 413, 415, 422))
@tracer.capture_method
def calculate():
    return _json_change(DISTRIBUTE, ops.calculate)


@router.get("/api/distribution-runs/<run_id>", summary="A run with its lines and exceptions",
            tags=["distributions"], responses=answers(JsonObject, 404))
@tracer.capture_method
def get_run(run_id: str):
    return json_response(ops.get_run(_actor(READ), run_id))


@router.post("/api/distribution-runs/<run_id>/approve", summary="Approve a run (approve scope; not the calculating key)",
             tags=["distributions"], responses=answers(JsonObject, 404, 409))
@tracer.capture_method
def approve(run_id: str):
    return _change(APPROVE, lambda actor: ops.approve(actor, run_id))


@router.post("/api/distribution-runs/<run_id>/cancel", summary="Cancel a run (distribute scope)",
             tags=["distributions"], responses=answers(JsonObject, 404, 409))
@tracer.capture_method
def cancel(run_id: str):
    return _change(DISTRIBUTE, lambda actor: ops.cancel(actor, run_id))


@router.get("/api/distribution-runs/<run_id>/payment-file", summary="The bank payment file, CSV (distribute scope)",
            tags=["distributions"], responses=answers(JsonObject, 404, 409))
@tracer.capture_method
def payment_file(run_id: str):
    text, name = ops.payment_file(_actor(DISTRIBUTE), run_id)
    return Response(status_code=200, content_type=f"{CSV}; charset=utf-8", body=text,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/api/distribution-runs/<run_id>/payment-file/mark-exported",
             summary="Mark a run's payment file exported (distribute scope)", tags=["distributions"],
             responses=answers(JsonObject, 404, 409))
@tracer.capture_method
def mark_exported(run_id: str):
    return _change(DISTRIBUTE, lambda actor: ops.mark_exported(actor, run_id))


@router.post("/api/distribution-runs/<run_id>/notices/generate", summary="Generate holder notices (distribute scope)",
             tags=["distributions"], responses=answers(JsonObject, 404, 409))
@tracer.capture_method
def generate_notices(run_id: str):
    return _change(DISTRIBUTE, lambda actor: ops.generate_notices(actor, run_id))


@router.post("/api/distribution-runs/<run_id>/notices/mark-sent", summary="Mark notices sent (distribute scope)",
             tags=["distributions"], responses=answers(JsonObject, 400, 404, 409, 413, 415, 422))
@tracer.capture_method
def mark_sent(run_id: str):
    return _json_change(DISTRIBUTE, lambda actor, body: ops.mark_sent(actor, run_id, body), optional=True)


@router.post("/api/distribution-runs/<run_id>/exceptions/detect",
             summary="Detect a run's exceptions on current holder data (distribute scope)", tags=["distributions"],
             responses=answers(JsonObject, 404))
@tracer.capture_method
def detect_exceptions(run_id: str):
    return _change(DISTRIBUTE, lambda actor: ops.detect_exceptions(actor, run_id))


@router.post("/api/demo/seed", summary="Seed demo data (distribute scope; only where the deployment enables it)",
             tags=["distributions"], responses=answers(JsonObject, 404))
@tracer.capture_method
def seed_demo():
    if not get_settings().demo_seed:
        raise ProblemError("not-found", "No route for POST /api/demo/seed.")
    return _change(DISTRIBUTE, demo.seed)
