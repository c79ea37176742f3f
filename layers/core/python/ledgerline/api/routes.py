"""The API's routes: which function serves each one and whether the authorizer guards it.

The local stack's front routes by this list; an infra test checks that the CDK stack's API
Gateway methods are exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    method: str
    resource: str  # API Gateway resource path, `{name}` for path parameters
    function: str  # directory under functions/
    authorized: bool = True


# GET /api/reports/{name}, served by the tables function (read scope)
REPORTS = ("balance-sheet", "income-statement", "cash-flow", "portfolio", "analytics/clients", "journal")

ROUTES = (
    Route("POST", "/ingest", "ingest"),
    Route("GET", "/api/tables", "tables"),
    Route("GET", "/api/tables/{table}", "tables"),
    Route("GET", "/api/tables/{table}/{id}", "tables"),
    Route("GET", "/api/tables/{table}/{id}/history", "tables"),
    Route("GET", "/api/tables/{table}/{id}/as-of/{date}", "tables"),
    Route("GET", "/api/tables/{table}/{id}/changes", "tables"),
    *(Route("GET", f"/api/reports/{name}", "tables") for name in REPORTS),
    Route("GET", "/openapi.json", "tables", authorized=False),
    Route("GET", "/docs", "tables", authorized=False),
)
