"""The partner-facing REST API: routes, authorizer, usage plan, problem+json gateway errors.

A REST API (not an HTTP API) because per-key rate limits and quotas need usage plans. The
partner sends only `Authorization: Bearer <api-key>`; the REQUEST authorizer looks the key up,
and returns the tenant, scopes and `usageIdentifierKey` (the API Gateway API key bound to the
partner's key), so API Gateway meters each partner key against the usage plan without the
partner ever handling a second key (`api_key_source_type=AUTHORIZER`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_xray as xray
from constructs import Construct

from infra import nag
from infra.config import DeployConfig
from ledgerline.api.routes import ROUTES, Route


@dataclass(frozen=True)
class GatewayProblem:
    """An error API Gateway answers by itself, rewritten as an RFC 9457 problem."""

    response_type: apigw.ResponseType
    status: int
    name: str
    title: str
    detail: str
    headers: dict[str, str] = field(default_factory=dict)


# Every status is set explicitly so that the body's "status" always equals the HTTP status.
# The response types not listed here (EXPIRED_TOKEN, INVALID_SIGNATURE, WAF_FILTERED) all
# default to 403 and land in DEFAULT_4XX; every gateway 5XX (authorizer failure, Lambda
# error, integration timeout) is the contract's 500 internal-error.
GATEWAY_PROBLEMS: tuple[GatewayProblem, ...] = (
    GatewayProblem(
        apigw.ResponseType.UNAUTHORIZED, 401, "unauthorized", "Unauthorized",
        "A valid API key is required: send it as 'Authorization: Bearer <api-key>'.",
        {"WWW-Authenticate": "'Bearer'"},
    ),
    # The authorizer accepted the partner key but its usage-plan key is missing or disabled,
    # which is what revoking a key does: to the partner it is an invalid key.
    GatewayProblem(
        apigw.ResponseType.INVALID_API_KEY, 401, "unauthorized", "Unauthorized",
        "A valid API key is required: send it as 'Authorization: Bearer <api-key>'.",
        {"WWW-Authenticate": "'Bearer'"},
    ),
    GatewayProblem(
        apigw.ResponseType.ACCESS_DENIED, 403, "forbidden", "Forbidden",
        "This API key does not have the scope this operation needs.",
    ),
    # With every route behind the authorizer or public, a missing token means no route.
    GatewayProblem(
        apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, 404, "not-found", "Not found",
        "No operation matches this method and path.",
    ),
    GatewayProblem(
        apigw.ResponseType.RESOURCE_NOT_FOUND, 404, "not-found", "Not found",
        "No operation matches this method and path.",
    ),
    GatewayProblem(
        apigw.ResponseType.THROTTLED, 429, "rate-limited", "Too many requests",
        "This API key is over its request rate; retry after the number of seconds in Retry-After.",
        {"Retry-After": "'1'"},
    ),
    GatewayProblem(
        apigw.ResponseType.QUOTA_EXCEEDED, 429, "rate-limited", "Too many requests",
        "This API key has used its daily request quota; the quota resets at 00:00 UTC.",
        {"Retry-After": "'3600'"},
    ),
    GatewayProblem(
        apigw.ResponseType.REQUEST_TOO_LARGE, 413, "payload-too-large", "Payload too large",
        "The request body is larger than 256 KiB.",
    ),
    GatewayProblem(
        apigw.ResponseType.BAD_REQUEST_BODY, 400, "malformed-request", "Malformed request",
        "The request body must be a JSON object.",
    ),
    GatewayProblem(
        apigw.ResponseType.BAD_REQUEST_PARAMETERS, 400, "malformed-request", "Malformed request",
        "A required request parameter is missing.",
    ),
    GatewayProblem(
        apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, 415, "unsupported-media-type", "Unsupported media type",
        "Send request bodies as application/json.",
    ),
    GatewayProblem(
        apigw.ResponseType.DEFAULT_4_XX, 403, "forbidden", "Forbidden",
        "The request was refused.",
    ),
    GatewayProblem(
        apigw.ResponseType.DEFAULT_5_XX, 500, "internal-error", "Internal error",
        "The request could not be completed. An ingest can be retried with the same "
        "Idempotency-Key: it is never applied twice.",
    ),
)

# One JSON object per request; values are quoted because API Gateway writes "-" when empty.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTimeEpoch",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "method": "$context.httpMethod",
    "resource": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "errorType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerLatencyMs": "$context.authorizer.latency",
    "tenantId": "$context.authorizer.tenant_id",
    "keyId": "$context.authorizer.key_id",
    "usagePlanKeyId": "$context.identity.apiKeyId",
    "xrayTraceId": "$context.xrayTraceId",
}

# Answered by the mock `ANY` method of every route's resource, not by a gateway response.
METHOD_NOT_ALLOWED = GatewayProblem(
    apigw.ResponseType.DEFAULT_4_XX, 405, "method-not-allowed", "Method not allowed",
    "This path does not answer this method.",
)


def problem_body(problem: GatewayProblem, problem_base: str, detail: str | None = None) -> str:
    return json.dumps(
        {
            "type": f"{problem_base}/problems/{problem.name}",
            "title": problem.title,
            "status": problem.status,
            "detail": detail or problem.detail,
            "instance": "$context.requestId",
        }
    )


def allowed_methods() -> dict[str, list[str]]:
    """Each resource path of the route list and the methods declared on it."""
    found: dict[str, list[str]] = {}
    for route in ROUTES:
        found.setdefault(route.resource, []).append(route.method)
    return {path: sorted(methods) for path, methods in found.items()}


def request_parameters(route: Route) -> dict[str, bool]:
    """A method's declared parameters: path parameters required; query parameters and headers
    declared for the record (and the console), checked by the function itself."""
    params = {f"method.request.path.{name}": True for name in route.path_parameters}
    params.update({f"method.request.querystring.{name}": False for name in route.query})
    params.update({f"method.request.header.{name}": False for name in route.headers})
    return params


class Api(Construct):
    """REST API, its stage, authorizer, usage plan, access logs and gateway responses."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        authorizer_function: lambda_.IFunction,
        route_functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        """`route_functions`: the function serving each `Route.function` of the route list."""
        super().__init__(scope, construct_id)

        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=config.log_retention)

        api_name = f"ledgerline-{config.stage}"
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=api_name,
            description="Ledgerline partner API: ingest events, read tables",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            # Access and execution logging need the account's API Gateway CloudWatch role.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                # Errors only, and never request/response bodies: they carry partner data.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                # A ceiling for the whole stage, above any single key's usage-plan limits.
                throttling_rate_limit=config.stage_rate_limit,
                throttling_burst_limit=config.stage_burst_limit,
            ),
        )
        self.stage = self.rest_api.deployment_stage
        # The stage's own X-Ray sampling: a fixed share of requests, no per-second reservoir
        # (the default rule traces the first request of every second, nearly all of them at a
        # few events a second: docs/performance.md). Functions a request invokes follow it.
        xray.CfnSamplingRule(self, "TraceSampling", sampling_rule=xray.CfnSamplingRule.SamplingRuleProperty(
            rule_name=f"{api_name}-api", priority=1000, version=1,
            fixed_rate=config.trace_percent / 100, reservoir_size=0,
            service_name=f"{api_name}/{config.stage}", service_type="AWS::ApiGateway::Stage",
            host="*", http_method="*", url_path="*", resource_arn="*",
        ))
        # The stack exports the URL as `ApiUrl`; drop the construct's auto-named duplicate.
        self.rest_api.node.try_remove_child("Endpoint")

        # API Gateway would create the execution log group itself, without a retention.
        self.execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{config.stage}",
            retention=config.log_retention,
        )
        self.stage.node.add_dependency(self.execution_logs)

        self.authorizer = apigw.RequestAuthorizer(
            self,
            "Authorizer",
            handler=authorizer_function,
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            # Cached per Authorization value: one authorizer call per key per TTL.
            results_cache_ttl=Duration.seconds(config.authorizer_cache_seconds),
        )

        self.validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        # Deliberately shallow: a JSON object. The ingest function validates the content and
        # reports every violation at once; the gateway only turns away non-JSON early.
        ingest_body = self.rest_api.add_model(
            "IngestBody",
            content_type="application/json",
            model_name="IngestBody",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                title="IngestBody",
                type=apigw.JsonSchemaType.OBJECT,
            ),
        )

        self._problem_base = config.problem_base_url
        self._add_routes(route_functions, ingest_body)
        self._add_gateway_responses(config.problem_base_url)

        self.usage_plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            name=f"ledgerline-{config.stage}",
            description="Per partner key: steady rate, burst and daily quota",
            throttle=apigw.ThrottleSettings(rate_limit=config.rate_limit, burst_limit=config.burst_limit),
            quota=apigw.QuotaSettings(limit=config.daily_quota, period=apigw.Period.DAY),
        )
        self.usage_plan.add_api_stage(stage=self.stage)

        self._acknowledge_findings(config)

    # -- routes ---------------------------------------------------------------------------

    def _add_routes(self, functions: Mapping[str, lambda_.IFunction], json_object: apigw.IModel) -> None:
        """One method per entry of the route list, on resources made from its path."""
        integrations = {name: apigw.LambdaIntegration(function, allow_test_invoke=False)
                        for name, function in functions.items()}
        resources: dict[str, apigw.IResource] = {"": self.rest_api.root}
        self.public_methods: list[apigw.Method] = []
        for route in ROUTES:
            resource = self._resource(resources, route.resource)
            options: dict[str, object] = {"request_validator": self.validator,
                                          "request_parameters": request_parameters(route)}
            if route.json_body:
                options["request_models"] = {"application/json": json_object}
            if route.authorized:
                options.update(authorizer=self.authorizer, authorization_type=apigw.AuthorizationType.CUSTOM,
                               api_key_required=True)
            else:  # the API description, its docs, the ingest schemas and the validator page are public by contract
                options["authorization_type"] = apigw.AuthorizationType.NONE
            method = resource.add_method(route.method, integrations[route.function], **options)
            if not route.authorized:
                self.public_methods.append(method)
        self.method_not_allowed = [self._method_not_allowed(resources[path], path) for path in allowed_methods()]

    def _method_not_allowed(self, resource: apigw.IResource, path: str) -> apigw.Method:
        """`ANY` on a route's resource: a method the route list does not declare there answers
        405 with `Allow`, as a problem, before any authorizer or function runs (API Gateway
        prefers a resource's declared methods over ANY, and answers 403 itself for methods
        outside the standard seven)."""
        allow = ", ".join(allowed_methods()[path])
        answer = apigw.IntegrationResponse(
            status_code="405",
            response_parameters={"method.response.header.Allow": f"'{allow}'",
                                 "method.response.header.Content-Type": "'application/problem+json'"},
            response_templates={"application/json": problem_body(METHOD_NOT_ALLOWED, self._problem_base,
                                                                 f"{path or '/'} answers {allow}.")},
        )
        return resource.add_method(
            "ANY",
            apigw.MockIntegration(
                # Whatever the body or its media type, the mock answers; its one response is 405.
                request_templates={"application/json": '{"statusCode": 405}'},
                passthrough_behavior=apigw.PassthroughBehavior.WHEN_NO_MATCH,
                integration_responses=[answer],
            ),
            authorization_type=apigw.AuthorizationType.NONE,
            method_responses=[apigw.MethodResponse(status_code="405", response_parameters={
                "method.response.header.Allow": True, "method.response.header.Content-Type": True})],
        )

    @staticmethod
    def _resource(resources: dict[str, apigw.IResource], path: str) -> apigw.IResource:
        """The resource of `path`, creating it and its missing parents."""
        if path not in resources:
            parent, _, part = path.rpartition("/")
            resources[path] = Api._resource(resources, parent).add_resource(part)
        return resources[path]

    def _add_gateway_responses(self, problem_base: str) -> None:
        for problem in GATEWAY_PROBLEMS:
            self.rest_api.add_gateway_response(
                f"Problem{problem.response_type.response_type}",
                type=problem.response_type,
                status_code=str(problem.status),
                response_headers={"Content-Type": "'application/problem+json'", **problem.headers},
                templates={"application/json": problem_body(problem, problem_base)},
            )

    # -- cdk-nag --------------------------------------------------------------------------

    def _acknowledge_findings(self, config: DeployConfig) -> None:
        if not config.web_acl:
            nag.acknowledge(
                self.rest_api,
                "AwsSolutions-APIG3",
                f"No WAF web ACL on the {config.stage} stage (prod has one, infra/waf.py): every data "
                "route needs a partner API key checked by the authorizer and is rate limited per key "
                "and per stage. Set the `waf` setting to add the same web ACL here.",
            )
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-COG4",
            "Partners are machines holding API keys, not Cognito users: the Lambda REQUEST "
            "authorizer checks the hashed key, its tenant and scopes (docs/contract.md, authentication).",
        )
        for method in self.method_not_allowed:
            nag.acknowledge(
                method,
                "AwsSolutions-APIG4",
                "The ANY method of a route's resource is a mock that only answers 405 with the Allow "
                "header: it reaches no function and returns no data, so it needs no authorizer.",
            )
            nag.acknowledge(
                method,
                "AwsSolutions-COG4",
                "The ANY method of a route's resource is a mock that only answers 405 with the Allow "
                "header: it reaches no function and returns no data, so it needs no authorizer.",
            )
        for method in self.public_methods:
            nag.acknowledge(
                method,
                "AwsSolutions-APIG4",
                "GET /openapi.json, GET /docs, GET /schemas/ingest/{file} and GET /validator are public by "
                "contract: they describe the API and return no tenant data.",
            )
        cloud_watch_role = self.rest_api.node.try_find_child("CloudWatchRole")
        if cloud_watch_role is not None:
            nag.acknowledge(
                cloud_watch_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level role API Gateway uses to write access and execution logs; this "
                "AWS managed policy is the documented, log-only policy for exactly that role.",
            )
