"""The API's route list: the one place a route is declared for the infrastructure.

Each route names its method, its API Gateway resource path, the scopes a key needs to call
it, its query parameters and headers, and the Lambda (directory under functions/) that
serves it. From this list:
  - the CDK stack builds the REST API's resources, methods and request parameters
    (infra/api.py);
  - the authorizer builds its policy: exactly the routes a key's scopes allow (`allowed_routes`);
  - the local stack's front routes requests (local/gateway.py);
  - the tests check that the OpenAPI document, generated from the handlers' routers, has the
    same paths and query parameters.
Pure data: importing this module touches no AWS and no Powertools.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ledgerline.domain.scopes import APPROVE, DISTRIBUTE, INGEST, READ


@dataclass(frozen=True)
class Route:
    method: str
    resource: str  # API Gateway resource path, `{name}` for path parameters
    function: str  # directory under functions/
    scopes: frozenset[str] = frozenset()  # the key needs every one of them; empty: public
    query: tuple[str, ...] = ()  # optional query parameters
    headers: tuple[str, ...] = ()  # request headers the route reads
    json_body: bool = False  # the body must be a JSON object (checked by the gateway too)

    @property
    def authorized(self) -> bool:
        return bool(self.scopes)

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{(\w+)\}", self.resource))

    @property
    def policy_resource(self) -> str:
        """The resource as an execute-api ARN suffix: each path parameter a wildcard."""
        return re.sub(r"\{\w+\}", "*", self.resource)


def _read(resource: str, *query: str) -> Route:
    return Route("GET", resource, "tables", frozenset({READ}), query)


# GET /api/reports/{name} and its query parameters (the function checks them all, and answers
# 304 to a matching If-None-Match; header names are case-insensitive, the OpenAPI document
# writes them in lower case)
REPORTS = {
    "balance-sheet": ("as_of", "currency", "known_at"),
    "income-statement": ("from", "to", "currency", "known_at"),
    "cash-flow": ("from", "to", "currency", "known_at"),
    "portfolio": ("as_of", "currency", "known_at"),
    "analytics/clients": ("from", "to", "known_at"),
    "journal": ("from", "to", "currency", "account", "disbursement_id", "known_at", "limit", "cursor"),
}


def _distribute(method: str, resource: str, *query: str, scope: str = DISTRIBUTE, json_body: bool = False) -> Route:
    return Route(method, resource, "distributions", frozenset({scope}), query, headers=("Idempotency-Key",),
                 json_body=json_body)


def _distribution_read(resource: str, *query: str) -> Route:
    return Route("GET", resource, "distributions", frozenset({READ}), query)


ASSET = "/api/assets/{asset_id}"
RUN = "/api/distribution-runs/{run_id}"
DISTRIBUTION_ROUTES = (
    _distribution_read("/api/assets", "limit", "cursor"),
    _distribute("POST", "/api/assets", json_body=True),
    _distribution_read(ASSET),
    _distribute("PATCH", ASSET, json_body=True),
    _distribute("DELETE", ASSET),
    _distribution_read(f"{ASSET}/holders"),
    _distribute("POST", f"{ASSET}/holders", json_body=True),
    _distribute("DELETE", f"{ASSET}/holders/{{holder_id}}"),
    _distribute("POST", f"{ASSET}/holders/import-csv", "effective_date"),
    _distribution_read(f"{ASSET}/positions", "as_of"),
    _distribute("POST", f"{ASSET}/positions", json_body=True),
    _distribution_read(f"{ASSET}/cash-flow-events"),
    _distribute("POST", f"{ASSET}/cash-flow-events", json_body=True),
    _distribute("POST", "/api/distributions/calculate", json_body=True),
    _distribution_read(RUN),
    _distribute("POST", f"{RUN}/approve", scope=APPROVE),
    _distribute("POST", f"{RUN}/cancel"),
    # The payment file holds bank details: `distribute`, not `read`.
    Route("GET", f"{RUN}/payment-file", "distributions", frozenset({DISTRIBUTE})),
    _distribute("POST", f"{RUN}/payment-file/mark-exported"),
    _distribute("POST", f"{RUN}/notices/generate"),
    _distribute("POST", f"{RUN}/notices/mark-sent"),
    _distribute("POST", f"{RUN}/exceptions/detect"),
    _distribute("POST", "/api/demo/seed"),
)

# Webhooks (docs/webhooks.md): a partner's own subscriptions, so the `read` scope.
WEBHOOK = "/api/webhooks/{webhook_id}"
WEBHOOK_ROUTES = (
    Route("POST", "/api/webhooks", "webhooks", frozenset({READ}), headers=("Idempotency-Key",), json_body=True),
    Route("GET", "/api/webhooks", "webhooks", frozenset({READ}), ("limit", "cursor")),
    Route("DELETE", WEBHOOK, "webhooks", frozenset({READ}), headers=("Idempotency-Key",)),
    Route("GET", f"{WEBHOOK}/deliveries", "webhooks", frozenset({READ}), ("limit", "cursor")),
)

ROUTES = (
    Route("POST", "/ingest", "ingest", frozenset({INGEST}), headers=("Idempotency-Key",), json_body=True),
    Route("POST", "/validate", "ingest", frozenset({INGEST}), json_body=True),
    _read("/api/tables"),
    _read("/api/tables/{table}", "limit", "cursor", "updated_since", "disbursement_id", "client_id"),
    _read("/api/tables/{table}/{id}"),
    _read("/api/tables/{table}/{id}/history", "limit", "offset"),
    _read("/api/tables/{table}/{id}/as-of/{date}", "known_at"),
    _read("/api/tables/{table}/{id}/changes", "from", "to"),
    *(Route("GET", f"/api/reports/{name}", "tables", frozenset({READ}), query, headers=("if-none-match",))
      for name, query in REPORTS.items()),
    *DISTRIBUTION_ROUTES,
    *WEBHOOK_ROUTES,
    Route("GET", "/openapi.json", "tables"),
    Route("GET", "/docs", "tables"),
    Route("GET", "/validator", "tables"),
    # API Gateway path parameters are whole segments: `{file}` is `<category>.json`.
    Route("GET", "/schemas/ingest/{file}", "tables"),
)


def _example_path(route: Route) -> str:
    path = route.resource
    for name in route.path_parameters:
        path = path.replace(f"{{{name}}}", f"x-{name}")
    return f"{route.method}{path}"


def shadowed_routes(scopes: Iterable[str]) -> list[Route]:
    """Routes the key may not call, but which an allowed route's wildcard would match.

    In an execute-api ARN `*` matches `/` too, so `GET /api/distribution-runs/*` (read) also
    matches the payment file (distribute). The authorizer denies these explicitly, and an
    explicit Deny wins over any Allow.
    """
    allowed = allowed_routes(scopes)
    patterns = [f"{route.method}{route.policy_resource}" for route in allowed]
    return [route for route in ROUTES if route.authorized and route not in allowed
            and any(fnmatch.fnmatchcase(_example_path(route), pattern) for pattern in patterns)]


def allowed_routes(scopes: Iterable[str]) -> list[Route]:
    """The authorized routes a key holding `scopes` may call: those whose scopes it all holds."""
    held = frozenset(scopes)
    return [route for route in ROUTES if route.authorized and route.scopes <= held]
