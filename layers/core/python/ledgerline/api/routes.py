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

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Scopes an API key can carry.
INGEST = "ingest"
READ = "read"  # every GET of partner data
SCOPES = (INGEST, READ)


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


ROUTES = (
    Route("POST", "/ingest", "ingest", frozenset({INGEST}), headers=("Idempotency-Key",), json_body=True),
    _read("/api/tables"),
    _read("/api/tables/{table}", "limit", "cursor", "updated_since", "disbursement_id", "client_id"),
    _read("/api/tables/{table}/{id}"),
    _read("/api/tables/{table}/{id}/history", "limit", "offset"),
    _read("/api/tables/{table}/{id}/as-of/{date}", "known_at"),
    _read("/api/tables/{table}/{id}/changes", "from", "to"),
    Route("GET", "/openapi.json", "tables"),
    Route("GET", "/docs", "tables"),
)


def allowed_routes(scopes: Iterable[str]) -> list[Route]:
    """The authorized routes a key holding `scopes` may call: those whose scopes it all holds."""
    held = frozenset(scopes)
    return [route for route in ROUTES if route.authorized and route.scopes <= held]
