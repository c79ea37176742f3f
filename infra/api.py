"""The partner-facing REST API: routes, authorizer, usage plan, problem+json gateway errors.

A REST API (not an HTTP API) because per-key rate limits and quotas need usage plans. The
partner sends only `Authorization: Bearer <api-key>`; the REQUEST authorizer looks the key up,
and returns the tenant, scopes and `usageIdentifierKey` (the API Gateway API key bound to the
partner's key), so API Gateway meters each partner key against the usage plan without the
partner ever handling a second key (`api_key_source_type=AUTHORIZER`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import nag
from infra.config import DeployConfig


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
    ),
    # The authorizer accepted the partner key but its usage-plan key is missing or disabled,
    # which is what revoking a key does: to the partner it is an invalid key.
    GatewayProblem(
        apigw.ResponseType.INVALID_API_KEY, 401, "unauthorized", "Unauthorized",
        "A valid API key is required: send it as 'Authorization: Bearer <api-key>'.",
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

# Query parameters are declared for the record (and the console); none is required.
_LIST_QUERY = ("limit", "cursor", "updated_since", "disbursement_id", "client_id")
# GET /api/reports/{name}: the query parameters of each report (the function checks them all).
REPORT_QUERY = {
    "balance-sheet": ("as_of", "currency", "known_at"),
    "income-statement": ("from", "to", "currency", "known_at"),
    "cash-flow": ("from", "to", "currency", "known_at"),
    "portfolio": ("as_of", "currency", "known_at"),
    "analytics/clients": ("from", "to", "known_at"),
    "journal": ("from", "to", "currency", "account", "disbursement_id", "known_at", "limit", "cursor"),
}


def problem_body(problem: GatewayProblem, problem_base: str) -> str:
    return json.dumps(
        {
            "type": f"{problem_base}/problems/{problem.name}",
            "title": problem.title,
            "status": problem.status,
            "detail": problem.detail,
            "instance": "$context.requestId",
        }
    )


def _params(*, path: tuple[str, ...] = (), query: tuple[str, ...] = (), headers: tuple[str, ...] = ()) -> dict[str, bool]:
    params = {f"method.request.path.{name}": True for name in path}
    params.update({f"method.request.querystring.{name}": False for name in query})
    params.update({f"method.request.header.{name}": False for name in headers})
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
        ingest_function: lambda_.IFunction,
        tables_function: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)

        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=config.log_retention)

        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"ledgerline-{config.stage}",
            description="Ledgerline partner API: ingest events, read tables and reports",
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

        self._add_routes(ingest_function, tables_function, ingest_body)
        self._add_gateway_responses(config.problem_base_url)

        self.usage_plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            name=f"ledgerline-{config.stage}",
            description="Per partner key: steady rate, burst and daily quota",
            throttle=apigw.ThrottleSettings(rate_limit=config.rate_limit, burst_limit=config.burst_limit),
            quota=apigw.QuotaSettings(limit=config.daily_quota, period=apigw.Period.DAY),
        )
        self.usage_plan.add_api_stage(stage=self.stage)

        self._acknowledge_findings()

    # -- routes ---------------------------------------------------------------------------

    def _authorized(self, request_parameters: dict[str, bool], **extra: object) -> dict[str, object]:
        return {
            "authorizer": self.authorizer,
            "authorization_type": apigw.AuthorizationType.CUSTOM,
            "api_key_required": True,
            "request_validator": self.validator,
            "request_parameters": request_parameters,
            **extra,
        }

    def _add_routes(
        self, ingest_function: lambda_.IFunction, tables_function: lambda_.IFunction, ingest_body: apigw.IModel
    ) -> None:
        ingest = apigw.LambdaIntegration(ingest_function, allow_test_invoke=False)
        tables = apigw.LambdaIntegration(tables_function, allow_test_invoke=False)
        root = self.rest_api.root

        root.add_resource("ingest").add_method(
            "POST",
            ingest,
            **self._authorized(
                _params(headers=("Idempotency-Key",)), request_models={"application/json": ingest_body}
            ),
        )

        table_list = root.add_resource("api").add_resource("tables")
        table_list.add_method("GET", tables, **self._authorized({}))
        table = table_list.add_resource("{table}")
        table.add_method("GET", tables, **self._authorized(_params(path=("table",), query=_LIST_QUERY)))
        record = table.add_resource("{id}")
        record_path = ("table", "id")
        record.add_method("GET", tables, **self._authorized(_params(path=record_path)))
        record.add_resource("history").add_method(
            "GET", tables, **self._authorized(_params(path=record_path, query=("limit", "offset")))
        )
        record.add_resource("as-of").add_resource("{date}").add_method(
            "GET", tables, **self._authorized(_params(path=(*record_path, "date"), query=("known_at",)))
        )
        record.add_resource("changes").add_method(
            "GET", tables, **self._authorized(_params(path=record_path, query=("from", "to")))
        )

        reports = root.get_resource("api").add_resource("reports")
        for name, query in REPORT_QUERY.items():
            resource = reports
            for part in name.split("/"):
                resource = resource.get_resource(part) or resource.add_resource(part)
            resource.add_method("GET", tables, **self._authorized(_params(query=query, headers=("If-None-Match",))))

        # The API description and its rendered docs are public by contract.
        self.public_methods = [
            root.add_resource(path).add_method(
                "GET", tables, authorization_type=apigw.AuthorizationType.NONE, request_validator=self.validator
            )
            for path in ("openapi.json", "docs")
        ]

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

    def _acknowledge_findings(self) -> None:
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "No WAF web ACL by default: every data route needs a partner API key checked by the "
            "authorizer and is rate limited per key and per stage. Attach a regional web ACL to the "
            "stage if partners call from known networks (docs/operations.md).",
        )
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-COG4",
            "Partners are machines holding API keys, not Cognito users: the Lambda REQUEST "
            "authorizer checks the hashed key, its tenant and scopes (CONTRACT.md section 1).",
        )
        for method in self.public_methods:
            nag.acknowledge(
                method,
                "AwsSolutions-APIG4",
                "GET /openapi.json and GET /docs are public by contract: they describe the API and "
                "return no tenant data.",
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
