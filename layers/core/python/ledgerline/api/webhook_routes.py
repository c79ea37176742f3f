"""Webhook routes (docs/webhooks.md): register, list and delete subscriptions, read the delivery log.

Thin: each route reads the caller (`read` scope) and calls `ledgerline.webhooks`. POST and
DELETE take an optional Idempotency-Key (`api.idempotent`); the secret is never part of the
stored answer, it is added to the one sent.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict

from ledgerline import webhooks
from ledgerline.api import cursor as cursors
from ledgerline.api.body import json_object_body
from ledgerline.api.caller import caller_from
from ledgerline.api.http import json_response
from ledgerline.api.idempotent import answer_once
from ledgerline.api.models import answers
from ledgerline.domain.jsonio import dumps
from ledgerline.domain.scopes import READ
from ledgerline.domain.tables import WEBHOOK_DELIVERIES, WEBHOOKS
from ledgerline.observability import tracer

router = APIGatewayRouter()
MAX_PAGE = 500
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size, at most {MAX_PAGE}")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


class JsonObject(BaseModel):
    """A JSON object; its fields are described in docs/webhooks.md."""

    model_config = ConfigDict(extra="allow")


def _actor() -> webhooks.Actor:
    event = router.current_event
    caller = caller_from(event.raw_event.get("requestContext"), READ)
    return webhooks.Actor(caller.tenant_id, caller.key_id, event.request_context.request_id or "local")


@router.post("/api/webhooks", summary="Register a webhook (the secret is shown once)", tags=["webhooks"],
             responses=answers(JsonObject, 400, 409, 413, 415, 422))
@tracer.capture_method
def create_webhook():
    event = router.current_event
    actor = _actor()
    body = json_object_body(event.body, event.is_base64_encoded, event.headers.get("Content-Type"))
    return answer_once(event, actor.tenant, "webhooks", lambda: webhooks.create(actor, body), dumps(body).encode(),
                       shown=webhooks.with_secret(actor.tenant))


@router.get("/api/webhooks", summary="List webhooks", tags=["webhooks"], responses=answers(JsonObject, 400))
@tracer.capture_method
def list_webhooks(limit: Limit = 100, cursor: Cursor = None):
    actor = _actor()
    start_key = cursors.decode(cursor, actor.tenant, WEBHOOKS, {}) if cursor else None
    found = webhooks.page(actor.tenant, limit, start_key)
    next_cursor = cursors.encode(actor.tenant, WEBHOOKS, {}, found.last_key) if found.last_key else None
    return json_response({"items": found.items, "next_cursor": next_cursor})


@router.delete("/api/webhooks/<webhook_id>", summary="Delete a webhook", tags=["webhooks"],
               responses=answers(JsonObject, 400, 404, 409, 422))
@tracer.capture_method
def delete_webhook(webhook_id: str):
    actor = _actor()
    return answer_once(router.current_event, actor.tenant, "webhooks", lambda: webhooks.delete(actor, webhook_id))


@router.get("/api/webhooks/<webhook_id>/deliveries", summary="A webhook's delivery log, every attempt",
            tags=["webhooks"], responses=answers(JsonObject, 400, 404))
@tracer.capture_method
def list_deliveries(webhook_id: str, limit: Limit = 100, cursor: Cursor = None):
    actor = _actor()
    scope = {"webhook_id": webhook_id}
    start_key = cursors.decode(cursor, actor.tenant, WEBHOOK_DELIVERIES, scope) if cursor else None
    found = webhooks.deliveries(actor, webhook_id, limit, start_key)
    next_cursor = cursors.encode(actor.tenant, WEBHOOK_DELIVERIES, scope, found.last_key) if found.last_key else None
    return json_response({"items": found.items, "next_cursor": next_cursor})
