"""Resolver set-up shared by the HTTP handlers: problem answers for every error, request ids."""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ledgerline.api.problems import PROBLEM_JSON, ProblemError, problem_body, problem_response
from ledgerline.domain.errors import DomainError, Violation
from ledgerline.domain.jsonio import dumps, loads
from ledgerline.observability import logger

JSON = "application/json"


def request_id(app: APIGatewayRestResolver) -> str:
    return app.current_event.request_context.request_id or str(uuid.uuid4())


def json_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=JSON, body=dumps(body), headers=headers or {})


def build_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(serializer=dumps, json_body_deserializer=loads, enable_validation=True)

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        return problem_response(error, request_id(app))

    @app.exception_handler(RequestValidationError)
    def _bad_parameters(error: RequestValidationError) -> Response:
        violations = [
            Violation(".".join(str(part) for part in item["loc"][1:]) or str(item["loc"][0]),
                      "invalid-value" if item["type"] != "missing" else "required", item["msg"])
            for item in error.errors()
        ]
        problem = ProblemError("validation-error", "A parameter is invalid.", status=400,
                               errors=[v.as_dict() for v in violations])
        return problem_response(problem, request_id(app))

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        event = app.current_event
        return problem_response(
            ProblemError("not-found", f"No route for {event.http_method} {event.path}."), request_id(app)
        )

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unexpected error")
        body = problem_body("internal-error", "Something went wrong on our side; nothing was stored.",
                            request_id(app))
        return Response(status_code=500, content_type=PROBLEM_JSON, body=dumps(body))

    return app


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run the resolver and stamp X-Request-Id on every answer, problems included."""
    response = app.resolve(event, context)
    rid = (event.get("requestContext") or {}).get("requestId") or str(uuid.uuid4())
    for name in ("headers", "multiValueHeaders"):
        if name in response and response[name] is not None:
            response[name]["X-Request-Id"] = rid if name == "headers" else [rid]
    if "headers" not in response and "multiValueHeaders" not in response:
        response["headers"] = {"X-Request-Id": rid}
    return response
