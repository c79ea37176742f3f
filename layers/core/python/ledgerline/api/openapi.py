"""One OpenAPI 3.1 document for the whole API, generated from the routes, plus its Swagger UI.

Powertools generates the paths, parameters and responses from the routers. The body of
POST /ingest is read and validated by the domain itself (exact decimals, every violation
listed), so its schema is added here from the same pydantic payload models.
"""


import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.compat import model_json
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ledgerline.api import distribution_routes, ingest_routes, read_routes
from ledgerline.api.routes import DISTRIBUTION_ROUTES
from ledgerline.domain.envelope import CATEGORIES, RETIRED

TITLE = "Ledgerline API"
SECURITY = ("Authorization: Bearer <api-key>. A key belongs to one tenant and carries scopes: `ingest` (POST "
            "/ingest), `read` (every GET of records), `distribute` (the asset register, distribution runs, the "
            "payment file, notices and exceptions) and `approve` (approving a run, by a key other than the one "
            "that calculated it). A key created without scopes has ingest and read.")
VERSION = "1.0.0"
router = APIGatewayRouter()


def _ingest_body() -> dict[str, Any]:
    variants = []
    for name, category in CATEGORIES.items():
        payload = category.model.model_json_schema(mode="validation", ref_template="#/components/schemas/{model}")
        payload.pop("$defs", None)
        variants.append({
            "type": "object",
            "title": f"{name} event",
            "required": ["category", "data"],
            "additionalProperties": False,
            "properties": {
                "category": {"const": name},
                "data": payload,
                "effective_at": {"type": "string", "description": "ISO 8601 date or timestamp: valid time"},
            },
        })
    return {
        "required": True,
        "description": "One event. Retired categories (" + ", ".join(RETIRED) + ") are refused with "
                       "deprecated-category.",
        "content": {"application/json": {"schema": {"oneOf": variants}}},
    }


def _nested_models() -> dict[str, Any]:
    """Component schemas the payload models refer to (e.g. PurchaseClient)."""
    found: dict[str, Any] = {}
    for category in CATEGORIES.values():
        schema = category.model.model_json_schema(mode="validation", ref_template="#/components/schemas/{model}")
        found.update(schema.get("$defs", {}))
    return found


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    app = APIGatewayRestResolver(enable_validation=True)
    app.include_router(ingest_routes.router)
    app.include_router(read_routes.router)
    app.include_router(distribution_routes.router)
    schema = app.get_openapi_schema(
        title=TITLE,
        version=VERSION,
        description="Partners push the life of their book as events and read everything back, scoped to "
                    "their API key, as of any date. Errors are RFC 9457 problems (application/problem+json).",
        servers=[Server(url="/")],
        security_schemes={"bearer": HTTPBearer(description=SECURITY)},
        security=[{"bearer": []}],
    )
    doc = json.loads(model_json(schema, by_alias=True, exclude_none=True))
    ingest = doc["paths"]["/ingest"]["post"]
    ingest["requestBody"] = _ingest_body()
    ingest.setdefault("parameters", []).append({
        "name": "Idempotency-Key", "in": "header", "required": True,
        "description": "1-255 printable ASCII characters; scoped to your tenant, kept at least 24 h",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    })
    for route in DISTRIBUTION_ROUTES:
        if "Idempotency-Key" in route.headers:
            operation = doc["paths"][route.resource][route.method.lower()]
            operation.setdefault("parameters", []).append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "description": "optional; the first answer is replayed for the same key and request "
                               "(1-255 printable ASCII characters, scoped to your tenant, kept at least 24 h)",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            })
    doc.setdefault("components", {}).setdefault("schemas", {}).update(_nested_models())
    return doc


def document_json() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


@router.get("/openapi.json", include_in_schema=False)
def openapi_json():
    return Response(status_code=200, content_type="application/json", body=document_json())


@router.get("/docs", include_in_schema=False)
def swagger_ui():
    from pathlib import Path

    import aws_lambda_powertools.event_handler.openapi.swagger_ui as assets

    folder = Path(assets.__file__).parent
    html = generate_swagger_html(
        json.dumps(document()).replace("</", "<\\/"),
        (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (folder / "swagger-ui.min.css").read_text(encoding="utf-8"),
        None,
        None,
        False,
    )
    return Response(status_code=200, content_type="text/html", body=html)
