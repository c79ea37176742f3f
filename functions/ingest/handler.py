"""Lambda for POST /ingest (routes in ledgerline.api.ingest_routes)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerline.api import ingest_routes
from ledgerline.api.http import build_resolver, resolve
from ledgerline.observability import logger, metrics, tracer

app = build_resolver()
app.include_router(ingest_routes.router)


@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ingest_routes.IDEMPOTENCY.register_lambda_context(context)
    return resolve(app, event, context)
