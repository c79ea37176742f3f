"""Lambda for the read API and the API's own documentation (routes in ledgerline.api)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerline.api import read_routes
from ledgerline.api.http import build_resolver, resolve
from ledgerline.observability import logger, tracer

app = build_resolver()
app.include_router(read_routes.router)


# The API description (ledgerline.api.openapi) and the ingest schemas are built on the first
# GET /openapi.json, /docs or /schemas/..., not at cold start: its OpenAPI models and Swagger UI cost more to import than the read
# API itself, and almost no request needs them.
@app.get("/openapi.json", include_in_schema=False)
def openapi_json():
    from ledgerline.api import openapi

    return openapi.openapi_json()


@app.get("/docs", include_in_schema=False)
def swagger_ui():
    from ledgerline.api import openapi

    return openapi.swagger_ui()


@app.get("/schemas/ingest/<category>.json", include_in_schema=False)
def ingest_schema(category: str):
    from ledgerline.api import openapi

    return openapi.ingest_schema(category)


@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
