"""Lambda for the webhook routes (routes in ledgerline.api.webhook_routes)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerline.api import idempotent, webhook_routes
from ledgerline.api.http import build_resolver, resolve
from ledgerline.observability import logger, tracer

app = build_resolver()
app.include_router(webhook_routes.router)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotent.IDEMPOTENCY.register_lambda_context(context)
    return resolve(app, event, context)
