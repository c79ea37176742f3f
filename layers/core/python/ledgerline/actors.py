"""Who asks and what they get: the caller of an API operation and the answer it returns.

Shared by the use cases that API routes run (`distributions`, `webhooks`); the routes build
the actor from the authorizer's context and send the answer (`api.idempotent` stores it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgerline.store.records import EventContext


@dataclass(frozen=True)
class Actor:
    """Who asks: the tenant and key (from the authorizer), and the request id stamped on versions."""

    tenant: str
    key_id: str
    request_id: str

    def context(self) -> EventContext:
        return EventContext(self.tenant, self.request_id, self.key_id, None)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
