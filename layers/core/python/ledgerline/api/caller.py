"""Who is calling: the tenant, key and scopes the authorizer put in the request context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgerline.api.problems import ProblemError
from ledgerline.observability import logger


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    key_id: str
    scopes: frozenset[str]


def caller_from(request_context: dict[str, Any], scope: str) -> Caller:
    """The caller, provided its key carries `scope` (403 otherwise; 401 without an authorizer context)."""
    authorizer = (request_context or {}).get("authorizer") or {}
    tenant_id, key_id = authorizer.get("tenant_id"), authorizer.get("key_id")
    if not tenant_id or not key_id:
        raise ProblemError("unauthorized", "A valid API key is required.")
    caller = Caller(tenant_id, key_id, frozenset(str(authorizer.get("scopes", "")).split()))
    logger.append_keys(tenant_id=tenant_id, key_id=key_id)  # on every log line of this request
    if scope not in caller.scopes:
        raise ProblemError("forbidden", f"This API key lacks the '{scope}' scope.")
    return caller
