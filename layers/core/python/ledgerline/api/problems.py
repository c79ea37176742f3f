"""RFC 9457 problem responses: the one place that maps errors to HTTP answers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from ledgerline.domain.errors import DomainError
from ledgerline.domain.jsonio import dumps
from ledgerline.settings import get_settings

PROBLEM_JSON = "application/problem+json"

# problem type -> (status, title)
PROBLEMS: dict[str, tuple[int, str]] = {
    "malformed-request": (400, "Malformed request"),
    "idempotency-key-missing": (400, "Idempotency-Key header missing or invalid"),
    "bad-request": (400, "Bad request"),
    "unauthorized": (401, "Unauthorized"),
    "forbidden": (403, "Forbidden"),
    "maker-checker": (403, "Maker-checker"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "conflict": (409, "Conflict"),
    "request-in-progress": (409, "Request in progress"),
    "invalid-state": (409, "Invalid state"),
    "blocking-exceptions": (409, "Blocking exceptions"),
    "payload-too-large": (413, "Payload too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation-error": (422, "Validation error"),
    "idempotency-key-reused": (422, "Idempotency-Key reused"),
    "unknown-reference": (422, "Unknown reference"),
    "deprecated-category": (422, "Deprecated category"),
    "rate-limited": (429, "Too many requests"),
    "internal-error": (500, "Internal error"),
}


class ProblemError(DomainError):
    """An HTTP-level problem raised by the API layer (auth, headers, body, routing)."""

    def __init__(self, problem: str, detail: str, *, status: int | None = None, retry_after: int | None = None,
                 **extensions: Any) -> None:
        super().__init__(problem, detail, [], retry_after)
        self.status = status
        self.extensions = extensions


def problem_body(problem: str, detail: str, request_id: str, status: int | None = None,
                 **extensions: Any) -> dict[str, Any]:
    default_status, title = PROBLEMS[problem]
    return {
        "type": f"{get_settings().problem_base}/problems/{problem}",
        "title": title,
        "status": status or default_status,
        "detail": detail,
        "instance": request_id,
        **extensions,
    }


def problem_response(error: DomainError, request_id: str) -> Response:
    extensions: dict[str, Any] = dict(getattr(error, "extensions", {}))
    if error.violations:
        extensions["errors"] = [v.as_dict() for v in error.violations]
    body = problem_body(error.problem, error.detail, request_id, getattr(error, "status", None), **extensions)
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    if body["status"] == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(status_code=body["status"], content_type=PROBLEM_JSON, body=dumps(body), headers=headers)
