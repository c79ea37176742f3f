"""The API's routes: which function serves each one and whether the authorizer guards it.

API Gateway resources in the CDK stack and the local stack's front are both built from this list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    method: str
    resource: str  # API Gateway resource path, `{name}` for path parameters
    function: str  # directory under functions/
    authorized: bool = True


ROUTES = (
    Route("POST", "/ingest", "ingest"),
    Route("GET", "/api/tables/{table}/{id}", "tables"),
)
