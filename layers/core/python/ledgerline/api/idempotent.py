"""An optional Idempotency-Key on a POST, PATCH or DELETE, with /ingest's semantics.

The first answer is stored per (tenant, key) with Powertools' idempotency utility and replayed
with `Idempotent-Replayed: true`; the same key with another request (method, path, query and
body) is refused (422 idempotency-key-reused), and one still running answers 409 with
Retry-After. Used by the distribution and webhook routes. /ingest, whose key is required and whose replay
says `"status": "Duplicate"`, keeps its own configuration and stored answers (api.ingest_routes)
and shares the store and the problems (`persistence_layer`, `idempotency_problems`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from ledgerline.actors import Answer
from ledgerline.api.body import checked_idempotency_key
from ledgerline.api.http import json_response
from ledgerline.api.problems import ProblemError
from ledgerline.domain.jsonio import dumps, loads
from ledgerline.settings import get_settings


def _mark_replay(response: dict[str, Any], _record: Any) -> dict[str, Any]:
    """Runs only when Powertools answers from a stored result."""
    return {**response, "replayed": True}


IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[tenant, idempotency_key]",
    payload_validation_jmespath="request_sha256",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=get_settings().idempotency_ttl_seconds,
    response_hook=_mark_replay,
)


def persistence_layer() -> DynamoDBPersistenceLayer:
    """Powertools' store in the idempotency table; built on first use, so no AWS client exists at import time."""
    return DynamoDBPersistenceLayer(table_name=get_settings().need("idempotency_table"))


@contextmanager
def idempotency_problems(what: str, new: str) -> Iterator[None]:
    """Powertools' idempotency errors as problems: the key used with another `what`, or still running."""
    try:
        yield
    except IdempotencyValidationError:
        raise ProblemError("idempotency-key-reused", f"This Idempotency-Key was already used with a different "
                                                     f"{what}; use a new key for a new {new}.") from None
    except IdempotencyAlreadyInProgressError:
        raise ProblemError("request-in-progress", "A request with this Idempotency-Key is still being processed; "
                                                  "retry shortly.", retry_after=1) from None


@cache
def _idempotent(key_prefix: str) -> Callable[..., dict[str, Any]]:
    """One per route family."""
    store = persistence_layer()

    @idempotent_function(data_keyword_argument="request", persistence_store=store, config=IDEMPOTENCY,
                         key_prefix=key_prefix)
    def process(request: dict[str, Any], operation: Callable[[], Answer]) -> dict[str, Any]:
        answer = operation()
        return {"status": answer.status, "body": dumps(answer.body)}

    return process


def reset() -> None:
    """Forget the persistence layers (tests, after the tables are recreated)."""
    _idempotent.cache_clear()


def answer_once(
    event: APIGatewayProxyEvent,
    tenant: str,
    key_prefix: str,
    operation: Callable[[], Answer],
    body: bytes = b"",
    shown: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Response:
    """Run `operation`, once per Idempotency-Key when the request has one, and answer it.

    `shown` turns the stored answer into the one sent, on the first answer and on replays alike
    (what must not be stored, such as a webhook's secret, is added there).
    """
    show = shown or (lambda answer: answer)
    key = event.headers.get("Idempotency-Key")
    if key is None:
        answer = operation()
        return json_response(show(answer.body), answer.status)
    checked_idempotency_key(key)
    fingerprint = hashlib.sha256(b"\n".join([
        event.http_method.encode(), event.path.encode(), dumps(event.query_string_parameters or {}).encode(), body,
    ])).hexdigest()
    with idempotency_problems("request", "request"):
        stored = _idempotent(key_prefix)(
            request={"tenant": tenant, "idempotency_key": key, "request_sha256": fingerprint},
            operation=operation,
        )
    replayed = {"Idempotent-Replayed": "true"} if stored.get("replayed") else None
    return json_response(show(loads(stored["body"])), stored["status"], headers=replayed)
