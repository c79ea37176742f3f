"""POST /ingest: validate, store and acknowledge one partner event, exactly once per Idempotency-Key."""


from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from ledgerline.api.body import idempotency_key, json_object_body
from ledgerline.api.caller import caller_from
from ledgerline.api.http import json_response
from ledgerline.api.idempotent import idempotency_problems, persistence_layer
from ledgerline.api.models import IngestAnswer, answers
from ledgerline.ingest import IngestRequest, ingest
from ledgerline.observability import logger, tracer
from ledgerline.settings import get_settings

router = APIGatewayRouter()


def _mark_replay(response: dict[str, Any], _record: Any) -> dict[str, Any]:
    """Runs only when Powertools answers from a stored result."""
    return {**response, "status": "Duplicate"}


IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[tenant, idempotency_key]",
    payload_validation_jmespath="body_sha256",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=get_settings().idempotency_ttl_seconds,
    response_hook=_mark_replay,
)


@lru_cache(maxsize=1)
def _idempotent_ingest() -> Callable[..., dict[str, Any]]:
    """Built on first use so no AWS client exists at import time."""
    store = persistence_layer()

    @idempotent_function(data_keyword_argument="request", persistence_store=store, config=IDEMPOTENCY,
                         key_prefix="ingest")
    def process(request: dict[str, Any]) -> dict[str, Any]:
        return ingest(IngestRequest(request["tenant"], request["key_id"], request["idempotency_key"],
                                    request["body"]))

    return process


@router.post(
    "/ingest",
    summary="Send one event",
    description="Validates and stores one event (client, disbursement, payment or operation) exactly once per "
                "Idempotency-Key. See docs/ingest.md for every category's fields and rules.",
    tags=["ingest"],
    responses=answers(IngestAnswer, 400, 409, 413, 415, 422),
)
@tracer.capture_method
def post_ingest():
    event = router.current_event
    caller = caller_from(event.raw_event.get("requestContext"), "ingest")
    key = idempotency_key(event.headers)
    body = json_object_body(event.body, event.is_base64_encoded, event.headers.get("Content-Type"))
    request = IngestRequest(caller.tenant_id, caller.key_id, key, body)
    logger.append_keys(event_id=request.event_id)  # the worker logs its derivations under this id
    result = submit(request)
    replayed = {"Idempotent-Replayed": "true"} if result["status"] == "Duplicate" else None
    return json_response(result, headers=replayed)


def submit(request: IngestRequest) -> dict[str, Any]:
    """Ingest once per (tenant, Idempotency-Key); Powertools' errors become problems."""
    with idempotency_problems("body", "event"):
        return _idempotent_ingest()(request={
            "tenant": request.tenant, "key_id": request.key_id, "idempotency_key": request.idempotency_key,
            "body_sha256": request.body_sha256, "body": request.body,
        })
