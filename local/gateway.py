"""An HTTP front that behaves like the deployed API Gateway REST API.

Per request: match a route from `ledgerline.api.routes`, run the real authorizer (REQUEST type)
and evaluate its policy, then hand a REST proxy event to the route's real handler. The answers
API Gateway itself gives (401, 403, 404, 405, 413) use the same problem+json shape as the
stack's gateway responses; any method reaches here, so nothing answers with an HTML page.
"""

from __future__ import annotations

import base64
import fnmatch
import re
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ledgerline.api.problems import PROBLEM_JSON, problem_body
from ledgerline.api.routes import ROUTES, Route
from ledgerline.domain.jsonio import dumps
from local.lambdas import Lambdas

API_ID, ACCOUNT, REGION = "localapi", "000000000000", "local"
# The methods a REST API can route; any other (TRACE, CONNECT, made-up ones) is refused with 403.
GATEWAY_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
MAX_GATEWAY_BODY = 10 * 1024 * 1024  # API Gateway's own limit; the handlers enforce 256 KiB


def _pattern(resource: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", resource) + "$")


class Gateway:
    def __init__(self, stage: str = "local") -> None:
        self.stage = stage
        self.routes = [(route, _pattern(route.resource)) for route in ROUTES]
        self.lambdas = Lambdas({r.function for r in ROUTES} | {"authorizer"})

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        request_id = str(uuid.uuid4())
        url = urlsplit(target)
        path = url.path.rstrip("/") or "/"
        if len(body) > MAX_GATEWAY_BODY:
            return self._problem("payload-too-large", "The body exceeds the gateway limit.", request_id)
        if method not in GATEWAY_METHODS:
            return self._problem("forbidden", f"The method {method} is not supported.", request_id)
        matched = self._match(method, path)
        if matched is None:
            allowed = self._methods_of(path)
            if allowed:
                return self._problem("method-not-allowed", f"{path} does not support {method}.", request_id,
                                     {"Allow": ", ".join(allowed)})
            return self._problem("not-found", f"No route for {method} {path}.", request_id)
        route, params = matched
        query = dict(parse_qsl(url.query, keep_blank_values=True)) or None
        request_context = {
            "requestId": request_id, "stage": self.stage, "httpMethod": method, "resourcePath": route.resource,
            "path": f"/{self.stage}{path}", "identity": {"sourceIp": headers.get("X-Forwarded-For", "127.0.0.1")},
            "apiId": API_ID, "accountId": ACCOUNT,
        }
        if route.authorized:
            verdict = self._authorize(method, path, route, headers, query, params, request_context)
            if isinstance(verdict, tuple):
                return verdict
            request_context["authorizer"] = verdict
        text, is_base64 = _body_text(body)
        event = {
            "resource": route.resource, "path": path, "httpMethod": method, "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": params or None, "stageVariables": None, "requestContext": request_context,
            "body": text, "isBase64Encoded": is_base64,
        }
        response = self.lambdas.invoke(route.function, event)
        out_headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
        out_headers.update(response.get("headers") or {})
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode("utf-8")
        return int(response["statusCode"]), out_headers, data

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self.routes:
            found = pattern.match(path)
            if found and route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def _methods_of(self, path: str) -> list[str]:
        """The methods the routes of `path` have (empty when no route has this path)."""
        return sorted({route.method for route, pattern in self.routes if pattern.match(path)})

    def _authorize(self, method, path, route, headers, query, params, request_context):
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{self.stage}/{method}{path}"
        event = {
            "type": "REQUEST", "methodArn": method_arn, "resource": route.resource, "path": path,
            "httpMethod": method, "headers": headers, "queryStringParameters": query,
            "pathParameters": params, "stageVariables": None, "requestContext": request_context,
        }
        try:
            result = self.lambdas.invoke("authorizer", event)
        except Exception as error:  # the authorizer's "Unauthorized" is API Gateway's 401
            if str(error) == "Unauthorized":
                return self._problem("unauthorized", "A valid API key is required.", request_context["requestId"])
            return self._problem("internal-error", "The authorizer failed.", request_context["requestId"])
        if not _allowed(result.get("policyDocument", {}), method_arn):
            return self._problem("forbidden", "This API key may not call this route.", request_context["requestId"])
        return {**(result.get("context") or {}), "principalId": result.get("principalId")}

    @staticmethod
    def _problem(name: str, detail: str, request_id: str,
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        body = problem_body(name, detail, request_id)
        out_headers = {"Content-Type": PROBLEM_JSON, "X-Request-Id": request_id, **(headers or {})}
        if body["status"] == 401:
            out_headers["WWW-Authenticate"] = "Bearer"
        return body["status"], out_headers, dumps(body).encode()


def _allowed(policy: dict[str, Any], method_arn: str) -> bool:
    """IAM-style evaluation: an explicit Deny wins, else some Allow must match."""
    def matches(statement: dict[str, Any]) -> bool:
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        return any(fnmatch.fnmatchcase(method_arn, resource) for resource in resources)

    statements = policy.get("Statement", [])
    if any(s.get("Effect") == "Deny" and matches(s) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and matches(s) for s in statements)


def _body_text(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def serve(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()}
            status, out_headers, data = gateway.handle(self.command, self.path, headers, body)
            self.send_response(status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer has headers only
                self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            # Every method (TRACE, OPTIONS, made-up ones) reaches the gateway, which answers
            # as API Gateway does, instead of the standard library's 501 HTML page.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:  # one line per request
            print(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", flush=True)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
