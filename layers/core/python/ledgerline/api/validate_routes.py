"""POST /validate: what POST /ingest would answer for an event, without storing or publishing it."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ledgerline.api.body import json_object_body
from ledgerline.api.caller import caller_from
from ledgerline.api.http import json_response
from ledgerline.api.models import ValidateAnswer, answers
from ledgerline.ingest import validate
from ledgerline.observability import tracer

router = APIGatewayRouter()


@router.post(
    "/validate",
    summary="Check one event without sending it",
    description="Runs every check of POST /ingest, including those against your stored records (unknown "
                "references, create of an existing id, illegal status moves), and answers with the same "
                "problems, or with the outcome /ingest would have. Stores and publishes nothing; an "
                "Idempotency-Key is ignored. See docs/start-here.md.",
    tags=["ingest"],
    responses=answers(ValidateAnswer, 400, 409, 413, 415, 422),
)
@tracer.capture_method
def post_validate():
    event = router.current_event
    caller = caller_from(event.raw_event.get("requestContext"), "ingest")
    body = json_object_body(event.body, event.is_base64_encoded, event.headers.get("Content-Type"))
    return json_response(validate(caller.tenant_id, body))
