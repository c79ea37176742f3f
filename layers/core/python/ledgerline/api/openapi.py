"""One OpenAPI 3.1 document for the whole API, generated from the routes, plus its Swagger UI
and the published JSON Schemas of the ingest payloads.

Powertools generates the paths, parameters and responses from the routers. The body of
POST /ingest (and of POST /validate, which takes the same body) is read and validated by the
domain itself (exact decimals, every violation listed), so its schema is added here from the
same pydantic payload models (ingest_schemas).
"""


import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.compat import model_json
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

from ledgerline.api import (
    distribution_routes,
    ingest_routes,
    read_routes,
    report_routes,
    validate_routes,
    webhook_routes,
)
from ledgerline.api.ingest_schemas import category_schema, event_name, event_schemas, rebase
from ledgerline.api.problems import ProblemError
from ledgerline.api.routes import DISTRIBUTION_ROUTES, WEBHOOK_ROUTES
from ledgerline.domain.envelope import CATEGORIES, RETIRED
from ledgerline.domain.journal import POSTING_ACCOUNTS

TITLE = "Ledgerline API"
SECURITY = ("Authorization: Bearer <api-key>. A key belongs to one tenant and carries scopes: `ingest` (POST "
            "/ingest), `read` (every GET of records), `distribute` (the asset register, distribution runs, the "
            "payment file, notices and exceptions) and `approve` (approving a run, by a key other than the one "
            "that calculated it). A key created without scopes has ingest and read.")
VERSION = "1.0.0"


COMPONENTS = "#/components/schemas/"


# One event per category, in an order that works on an empty tenant (Swagger UI offers them).
EXAMPLES = {
    "client": {"category": "client", "data": {
        "client_id": "BR-2024-001", "step": "create", "name": "Ada Lovelace", "client_type": "individual",
        "currency": "EUR", "country": "GB", "email": "ada@example.com"}},
    "loan": {"category": "disbursement", "data": {
        "disbursement_id": "LN-2024-001", "step": "create", "kind": "loan", "client_id": "BR-2024-001",
        "disbursement_amount": 10000, "currency": "EUR", "total_expected_margin": 1293.5,
        "disbursement_date": "2024-10-20", "maturity_date": "2025-10-20"}},
    "installment": {"category": "payment", "data": {
        "payment_id": "LN-2024-001-1", "disbursement_id": "LN-2024-001", "status": "expected", "amount": 850.25,
        "currency": "EUR", "due_date": "2024-11-20", "installment_number": 1}},
    "receipt": {"category": "payment", "data": {
        "payment_id": "LN-2024-001-1", "disbursement_id": "LN-2024-001", "status": "paid", "due_date": "2024-11-20",
        "payment_date": "2024-11-19T10:15:00Z"}},
    "revenue": {"category": "operation", "data": {
        "operation_id": "OP-2024-001", "operation_type": "revenue", "amount": 12.5, "currency": "EUR",
        "operation_date": "2024-11-01", "disbursement_id": "LN-2024-001"}},
    "extension": {"category": "disbursement", "effective_at": "2025-09-01", "data": {
        "disbursement_id": "LN-2024-001", "step": "update", "maturity_date": "2026-04-20",
        "change_date": "2025-09-01", "change_reason": "six-month extension agreed with the borrower"}},
}


def ingest_body() -> dict[str, Any]:
    """The body of POST /ingest: one of the four category events, discriminated by `category`."""
    return {
        "required": True,
        "description": "One event. Each category's `data` is also published as a JSON Schema at "
                       "/schemas/ingest/{category}.json. Retired categories (" + ", ".join(RETIRED) + ") are "
                       "refused with deprecated-category.",
        "content": {"application/json": {"schema": {
            "oneOf": [{"$ref": COMPONENTS + event_name(name)} for name in CATEGORIES],
            "discriminator": {"propertyName": "category",
                              "mapping": {name: COMPONENTS + event_name(name) for name in CATEGORIES}},
        }, "examples": {name: {"value": value} for name, value in EXAMPLES.items()}}},
    }


# Read parameters that take an id or a date: the handlers read them as text and answer 400
# (dates) or 404 (ids) for anything else, so the document can say what is valid.
_PARAMETER_SCHEMAS = {
    "id": {"$ref": COMPONENTS + "Id"},
    "disbursement_id": {"$ref": COMPONENTS + "Id"},
    "client_id": {"$ref": COMPONENTS + "Id"},
    "date": {"$ref": COMPONENTS + "Date"},
    "known_at": {"$ref": COMPONENTS + "Date"},
    "updated_since": {"$ref": COMPONENTS + "Date"},
    "from": {"$ref": COMPONENTS + "Date"},
    "to": {"$ref": COMPONENTS + "Date"},
}


# The reports' own parameters, also read as text (every violation answered in one 400 problem):
# the document says what is valid and what is required, which the handlers check themselves.
_REPORT_PARAMETER_SCHEMAS = {
    "as_of": {"$ref": COMPONENTS + "Date"},
    "currency": {"$ref": COMPONENTS + "Currency"},
    "account": {"type": "string", "enum": list(POSTING_ACCOUNTS)},
}
REPORTS_PREFIX = "/api/reports/"
_REPORT_REQUIRED = ("as_of", "from", "to", "currency")


def _type_parameter(parameter: dict[str, Any], path: str) -> None:
    if parameter["in"] not in ("path", "query"):
        return
    schemas = _PARAMETER_SCHEMAS
    if path.startswith(REPORTS_PREFIX):
        schemas = {**_PARAMETER_SCHEMAS, **_REPORT_PARAMETER_SCHEMAS}
        if parameter["name"] in _REPORT_REQUIRED:
            parameter["required"] = True
    if parameter["name"] in schemas:
        parameter["schema"] = {**schemas[parameter["name"]], "description": parameter["description"]}


def _ingest_links(paths: dict[str, Any]) -> dict[str, Any]:
    """From a stored event to its record (table = category + "s") and to events that link to it."""
    record = {"path.table": "{$request.body#/category}s", "path.id": "$response.body#/id"}
    reads = {
        "Record": ("/api/tables/{table}/{id}", record, "the record just written"),
        "History": ("/api/tables/{table}/{id}/history", record, "its versions"),
        "Changes": ("/api/tables/{table}/{id}/changes", record, "its per-field changes"),
        "AsOf": ("/api/tables/{table}/{id}/as-of/{date}", {**record, "path.date": "$request.body#/effective_at"},
                 "the record as of the event's valid time"),
    }
    links = {name: {"operationId": paths[path]["get"]["operationId"], "parameters": parameters,
                    "description": description} for name, (path, parameters, description) in reads.items()}
    ingest = paths["/ingest"]["post"]["operationId"]
    for field in ("client_id", "disbursement_id"):
        links[f"LinkBy{field.split('_')[0].capitalize()}"] = {
            "operationId": ingest, "requestBody": {"data": {field: "$response.body#/id"}},
            "description": f"another event whose data.{field} is the id just written",
        }
    return links


def webhook_body() -> dict[str, Any]:
    """POST /api/webhooks: a URL and the outgoing event names to deliver there (docs/webhooks.md)."""
    from ledgerline.events.outgoing import EVENT_NAMES

    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["url", "events"], "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "maxLength": 2000,
                    "description": "https URL whose host resolves to public addresses only"},
            "events": {"type": "array", "minItems": 1, "maxItems": 20, "uniqueItems": True,
                       "items": {"type": "string", "enum": list(EVENT_NAMES)}},
            "description": {"type": "string", "minLength": 1, "maxLength": 1000},
        },
    }}}}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    app = APIGatewayRestResolver(enable_validation=True)
    app.include_router(ingest_routes.router)
    app.include_router(validate_routes.router)
    app.include_router(read_routes.router)
    app.include_router(report_routes.router)
    app.include_router(distribution_routes.router)
    app.include_router(webhook_routes.router)
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
    ingest["requestBody"] = ingest_body()
    ingest.setdefault("parameters", []).append({
        "name": "Idempotency-Key", "in": "header", "required": True,
        "description": "1-255 printable ASCII characters; scoped to your tenant, kept at least 24 h",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
    })
    doc["paths"]["/validate"]["post"]["requestBody"] = ingest_body()
    doc["paths"]["/api/webhooks"]["post"]["requestBody"] = webhook_body()
    for route in (*DISTRIBUTION_ROUTES, *WEBHOOK_ROUTES):
        if "Idempotency-Key" in route.headers:
            operation = doc["paths"][route.resource][route.method.lower()]
            operation.setdefault("parameters", []).append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "description": "optional; the first answer is replayed for the same key and request "
                               "(1-255 printable ASCII characters, scoped to your tenant, kept at least 24 h)",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
            })
    doc.setdefault("components", {}).setdefault("schemas", {}).update(rebase(event_schemas(), COMPONENTS))
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            # Bad parameters are answered 400 problems (api.http), never Powertools' default 422.
            if "HTTPValidationError" in json.dumps(operation["responses"].get("422", {})):
                del operation["responses"]["422"]
            for parameter in operation.get("parameters", ()):
                _type_parameter(parameter, path)
    ingest["responses"]["200"]["links"] = _ingest_links(doc["paths"])
    for unused in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):  # Powertools' own
        doc["components"]["schemas"].pop(unused, None)
    return doc


def document_json() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


# The answers of the public routes the tables function serves (functions/tables/handler.py)
# without a key and leaves out of the document, which lists the routes behind a key.
def ingest_schema(category: str):
    if category not in CATEGORIES:
        raise ProblemError("not-found", f"No schema for category '{category}'.", categories=list(CATEGORIES))
    return Response(status_code=200, content_type="application/json", body=schema_json(category))


def openapi_json():
    return Response(status_code=200, content_type="application/json", body=document_json())


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


def schema_json(category: str) -> str:
    return json.dumps(category_schema(category), indent=2) + "\n"


if __name__ == "__main__":  # make api-docs: rewrite the committed document and schemas
    import sys
    from pathlib import Path as FilePath

    document_path, schemas_dir = FilePath(sys.argv[1]), FilePath(sys.argv[2])
    document_path.write_text(document_json(), encoding="utf-8")
    schemas_dir.mkdir(parents=True, exist_ok=True)
    for name in CATEGORIES:
        (schemas_dir / f"{name}.json").write_text(schema_json(name), encoding="utf-8")
