"""The REST API: routes, authorizer, usage plan, stage, gateway responses."""

from __future__ import annotations

import json

import pytest

from ledgerline.api.routes import ROUTES
from tests.infra.stack_helpers import function_id, integration_function, ref, routes

# The route list the local stack also serves: the deployed API must expose exactly these.
AUTHORIZED_ROUTES = {(r.method, r.resource): r.function for r in ROUTES if r.authorized}
PUBLIC_ROUTES = {(r.method, r.resource): r.function for r in ROUTES if not r.authorized}
BASE = "https://ledgerline.dev/problems/"


def only(resources: dict) -> dict:
    [resource] = resources.values()
    return resource["Properties"]


def api_id(synthesized) -> str:
    return synthesized.built.logical_id(synthesized.built.stack.api.rest_api)


def test_rest_api_takes_usage_plan_keys_from_the_authorizer(synthesized):
    props = only(synthesized.resources("AWS::ApiGateway::RestApi"))

    assert props["ApiKeySourceType"] == "AUTHORIZER"
    assert props["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_request_authorizer_is_cached_on_the_authorization_header(synthesized):
    props = only(synthesized.resources("AWS::ApiGateway::Authorizer"))

    assert props["Type"] == "REQUEST"
    assert props["IdentitySource"] == "method.request.header.Authorization"
    assert props["AuthorizerResultTtlInSeconds"] == 300
    assert {"Fn::GetAtt": [function_id(synthesized, "authorizer"), "Arn"]} in props["AuthorizerUri"]["Fn::Join"][1]


def test_routes_are_exactly_the_contracts(synthesized):
    assert set(routes(synthesized)) == set(AUTHORIZED_ROUTES) | set(PUBLIC_ROUTES)


@pytest.mark.parametrize(("route", "function"), AUTHORIZED_ROUTES.items())
def test_data_routes_need_the_authorizer_and_a_metered_key(synthesized, route, function):
    method = routes(synthesized)[route]
    authorizer_id = next(iter(synthesized.resources("AWS::ApiGateway::Authorizer")))

    assert method["AuthorizationType"] == "CUSTOM"
    assert method["AuthorizerId"] == ref(authorizer_id)
    assert method["ApiKeyRequired"] is True
    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert integration_function(method) == function_id(synthesized, function)
    validator_id = next(iter(synthesized.resources("AWS::ApiGateway::RequestValidator")))
    assert method["RequestValidatorId"] == ref(validator_id)


@pytest.mark.parametrize(("route", "function"), PUBLIC_ROUTES.items())
def test_docs_routes_are_public(synthesized, route, function):
    method = routes(synthesized)[route]

    assert method["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in method and not method.get("ApiKeyRequired", False)
    assert integration_function(method) == function_id(synthesized, function)


def test_path_parameters_are_required(synthesized):
    for (_, path), method in routes(synthesized).items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        params = method.get("RequestParameters", {})
        assert all(params.get(f"method.request.path.{name}") is True for name in names), path


def test_ingest_body_must_be_a_json_object_and_nothing_more(synthesized):
    method = routes(synthesized)[("POST", "/ingest")]
    model = synthesized.resource(method["RequestModels"]["application/json"]["Ref"])["Properties"]
    validator = only(synthesized.resources("AWS::ApiGateway::RequestValidator"))

    assert validator["ValidateRequestBody"] is True and validator["ValidateRequestParameters"] is True
    assert model["ContentType"] == "application/json"
    # Field rules stay in the function, which reports every violation at once.
    assert {k: v for k, v in model["Schema"].items() if k != "title"} == {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
    }
    # Idempotency-Key is checked by the function, which answers with the contract's problem.
    assert method["RequestParameters"] == {"method.request.header.Idempotency-Key": False}


def test_usage_plan_throttles_and_meters_each_key_on_the_stage(synthesized):
    props = only(synthesized.resources("AWS::ApiGateway::UsagePlan"))
    stage_id = synthesized.built.logical_id(synthesized.built.stack.api.stage)

    assert props["Throttle"] == {"RateLimit": 25, "BurstLimit": 50}
    assert props["Quota"] == {"Limit": 500000, "Period": "DAY"}
    assert [(s["ApiId"], s["Stage"]) for s in props["ApiStages"]] == [(ref(api_id(synthesized)), ref(stage_id))]


def test_the_stage_traces_a_fixed_share_of_requests_without_a_reservoir(synthesized):
    rule = only(synthesized.resources("AWS::XRay::SamplingRule"))["SamplingRule"]
    api = only(synthesized.resources("AWS::ApiGateway::RestApi"))

    assert (rule["FixedRate"], rule["ReservoirSize"]) == (0.05, 0)
    assert (rule["ServiceName"], rule["ServiceType"]) == (f"{api['Name']}/dev", "AWS::ApiGateway::Stage")
    assert rule["Priority"] < 10000  # before the account's default rule (1 a second, then 5 %)
    assert all(rule[key] == "*" for key in ("Host", "HTTPMethod", "URLPath", "ResourceARN"))


def test_stage_traces_logs_and_caps_the_whole_api(synthesized):
    stage = only(synthesized.resources("AWS::ApiGateway::Stage"))
    access_logs = synthesized.built.logical_id(synthesized.built.stack.api.access_logs)

    assert stage["StageName"] == "dev"
    assert stage["TracingEnabled"] is True
    destination = json.dumps(stage["AccessLogSetting"]["DestinationArn"])
    assert json.dumps(ref(access_logs)) in destination
    assert synthesized.resource(access_logs)["Properties"]["RetentionInDays"] == 90
    log_format = json.loads(stage["AccessLogSetting"]["Format"])
    assert log_format["requestId"] == "$context.requestId"
    assert log_format["tenantId"] == "$context.authorizer.tenant_id"
    # No request header is logged: the Authorization header is the partner's secret.
    assert not any("header" in value for value in log_format.values())
    [settings] = stage["MethodSettings"]
    assert settings == {
        "HttpMethod": "*",
        "ResourcePath": "/*",
        "LoggingLevel": "ERROR",
        "DataTraceEnabled": False,
        "ThrottlingRateLimit": 500,
        "ThrottlingBurstLimit": 1000,
    }


def test_execution_logs_have_a_retention(synthesized):
    group = synthesized.resource(synthesized.built.logical_id(synthesized.built.stack.api.execution_logs))

    name = group["Properties"]["LogGroupName"]["Fn::Join"][1]
    assert name == ["API-Gateway-Execution-Logs_", ref(api_id(synthesized)), "/dev"]
    assert group["Properties"]["RetentionInDays"] == 90


GATEWAY_RESPONSES = {
    "UNAUTHORIZED": (401, "unauthorized", None),
    "INVALID_API_KEY": (401, "unauthorized", None),
    "ACCESS_DENIED": (403, "forbidden", None),
    "THROTTLED": (429, "rate-limited", "'1'"),
    "QUOTA_EXCEEDED": (429, "rate-limited", "'3600'"),
    "REQUEST_TOO_LARGE": (413, "payload-too-large", None),
    "BAD_REQUEST_BODY": (400, "malformed-request", None),
    "MISSING_AUTHENTICATION_TOKEN": (404, "not-found", None),
    "DEFAULT_4XX": (403, "forbidden", None),
    "DEFAULT_5XX": (500, "internal-error", None),
}


def gateway_responses(synthesized) -> dict[str, dict]:
    return {
        response["Properties"]["ResponseType"]: response["Properties"]
        for response in synthesized.resources("AWS::ApiGateway::GatewayResponse").values()
    }


@pytest.mark.parametrize(("response_type", "expected"), GATEWAY_RESPONSES.items())
def test_gateway_errors_are_rfc9457_problems(synthesized, response_type, expected):
    status, name, retry_after = expected
    response = gateway_responses(synthesized)[response_type]

    assert response["StatusCode"] == str(status)
    assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
    assert response["ResponseParameters"].get("gatewayresponse.header.Retry-After") == retry_after
    body = json.loads(response["ResponseTemplates"]["application/json"])
    assert set(body) == {"type", "title", "status", "detail", "instance"}
    assert body["type"] == BASE + name
    assert body["status"] == status  # always equal to the HTTP status
    assert body["instance"] == "$context.requestId"
    assert body["title"] and body["detail"]


def test_every_gateway_401_challenges_for_a_bearer_token(synthesized):
    responses = gateway_responses(synthesized)
    unauthorized = [t for t, r in responses.items() if r["StatusCode"] == "401"]
    assert sorted(unauthorized) == ["INVALID_API_KEY", "UNAUTHORIZED"]
    for response_type in unauthorized:
        headers = responses[response_type]["ResponseParameters"]
        assert headers["gatewayresponse.header.WWW-Authenticate"] == "'Bearer'", response_type
    assert all("gatewayresponse.header.WWW-Authenticate" not in r["ResponseParameters"]
               for t, r in responses.items() if t not in unauthorized)


def test_every_gateway_response_is_a_problem(synthesized):
    for response_type, response in gateway_responses(synthesized).items():
        body = json.loads(response["ResponseTemplates"]["application/json"])
        assert body["type"].startswith(BASE), response_type
        assert str(body["status"]) == response["StatusCode"], response_type


def test_gateway_problems_use_the_api_problem_catalogue(synthesized):
    """API Gateway's own errors look exactly like the functions' (same types, titles, statuses)."""
    from ledgerline.api.problems import PROBLEMS

    for response_type, response in gateway_responses(synthesized).items():
        body = json.loads(response["ResponseTemplates"]["application/json"])
        name = body["type"].removeprefix(BASE)
        assert name in PROBLEMS, response_type
        assert (body["status"], body["title"]) == PROBLEMS[name], response_type


def test_a_method_a_path_does_not_answer_is_a_405_problem_with_allow(synthesized):
    """Every route's resource has an ANY mock: API Gateway prefers the declared methods, and
    any other standard method gets 405 with the methods the path answers, before any
    authorizer or function runs."""
    resources = synthesized.resources("AWS::ApiGateway::Resource")

    def path_of(resource_ref) -> str:
        if "Fn::GetAtt" in resource_ref:
            return ""
        resource = resources[resource_ref["Ref"]]["Properties"]
        return f"{path_of(resource['ParentId'])}/{resource['PathPart']}"

    mocks = {path_of(m["Properties"]["ResourceId"]): m["Properties"]
             for m in synthesized.resources("AWS::ApiGateway::Method").values()
             if m["Properties"]["HttpMethod"] == "ANY"}
    declared: dict[str, set[str]] = {}
    for route in ROUTES:
        declared.setdefault(route.resource, set()).add(route.method)
    assert set(mocks) == set(declared)
    for path, method in mocks.items():
        assert method["AuthorizationType"] == "NONE"
        integration = method["Integration"]
        assert integration["Type"] == "MOCK"
        [answer] = integration["IntegrationResponses"]
        assert answer["StatusCode"] == "405"
        allow = answer["ResponseParameters"]["method.response.header.Allow"].strip("'")
        assert set(allow.split(", ")) == declared[path]
        assert answer["ResponseParameters"]["method.response.header.Content-Type"] == "'application/problem+json'"
        body = json.loads(answer["ResponseTemplates"]["application/json"])
        assert body["status"] == 405 and body["type"].endswith("/problems/method-not-allowed")
        assert body["instance"] == "$context.requestId"
        assert [r["StatusCode"] for r in method["MethodResponses"]] == ["405"]
