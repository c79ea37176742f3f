"""Lambda for the read API and the API's own documentation (routes in ledgerline.api)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerline.api import openapi, read_routes
from ledgerline.api.http import build_resolver, resolve
from ledgerline.observability import logger, tracer

app = build_resolver()
app.include_router(read_routes.router)
app.include_router(openapi.router)


@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
