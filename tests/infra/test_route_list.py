"""Adding a route is one entry of the route list: the API's methods and request parameters,
the authorizer's policy and the OpenAPI document all follow it."""

from __future__ import annotations

from itertools import chain, combinations
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

import infra.api
from infra.api import Api, request_parameters
from infra.config import DeployConfig
from ledgerline.api import routes
from ledgerline.api.openapi import document
from ledgerline.api.routes import ROUTES, Route
from ledgerline.domain.scopes import READ, SCOPES
from ledgerline.store.apikeys import ApiKey
from local.gateway import _allowed

ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod"
# Routes of the kind the next modules add: a read route on a new resource, and a route behind a
# scope no route uses yet.
NEW_ROUTES = (
    Route("GET", "/api/reports/{report}", "tables", frozenset({READ}), ("as_of",)),
    Route("POST", "/api/distributions/{run}/approve", "ingest", frozenset({"approve"}), headers=("Idempotency-Key",)),
)


def stack_methods(route_list: tuple[Route, ...], monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], Any]:
    """(method, path) -> method properties of an Api construct built from `route_list`."""
    monkeypatch.setattr(infra.api, "ROUTES", route_list)
    stack = Stack(App(), "Routes")
    code = lambda_.Code.from_inline("def handler(event, context): pass")

    def function(name: str) -> lambda_.Function:
        return lambda_.Function(stack, name, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler", code=code)

    Api(stack, "Api", config=DeployConfig(), authorizer_function=function("authorizer"),
        route_functions={name: function(name) for name in ("ingest", "tables", "distributions", "webhooks")})
    template = Template.from_stack(stack).to_json()["Resources"]
    resources = {k: v["Properties"] for k, v in template.items() if v["Type"] == "AWS::ApiGateway::Resource"}

    def path_of(resource_ref: dict[str, Any]) -> str:
        if "Fn::GetAtt" in resource_ref:
            return ""
        resource = resources[resource_ref["Ref"]]
        return f"{path_of(resource['ParentId'])}/{resource['PathPart']}"

    return {(m["Properties"]["HttpMethod"], path_of(m["Properties"]["ResourceId"])): m["Properties"]
            for m in template.values()
            if m["Type"] == "AWS::ApiGateway::Method" and m["Properties"]["HttpMethod"] != "ANY"}


def concrete_arn(route: Route) -> str:
    path = route.resource
    for name in route.path_parameters:
        path = path.replace(f"{{{name}}}", f"some-{name}")
    return f"{ARN}/{route.method}{path}"


def policy_of(scopes: frozenset[str]) -> dict[str, Any]:
    """The policy the authorizer answers for an active key holding `scopes`."""
    from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import parse_api_gateway_arn

    from functions.authorizer.handler import policy_for

    key = ApiKey("t1", "key1", tuple(sorted(scopes)), "active", "2026-01-01T00:00:00.000000Z")
    return policy_for(key, parse_api_gateway_arn(f"{ARN}/GET/api/tables"))["policyDocument"]


def scope_sets(scopes: tuple[str, ...]) -> list[frozenset[str]]:
    return [frozenset(s) for s in chain.from_iterable(combinations(scopes, n) for n in range(len(scopes) + 1))]


@pytest.mark.parametrize("route_list", [ROUTES, ROUTES + NEW_ROUTES], ids=["routes", "with-new-routes"])
def test_the_stack_has_one_method_per_route_with_its_parameters_and_authorization(route_list, monkeypatch):
    methods = stack_methods(route_list, monkeypatch)

    assert set(methods) == {(r.method, r.resource) for r in route_list}
    for route in route_list:
        method = methods[(route.method, route.resource)]
        assert method.get("RequestParameters", {}) == request_parameters(route), route
        assert method["AuthorizationType"] == ("CUSTOM" if route.authorized else "NONE"), route
        assert method.get("ApiKeyRequired", False) is route.authorized
        assert ("RequestModels" in method) is route.json_body


@pytest.mark.parametrize("route_list", [ROUTES, ROUTES + NEW_ROUTES], ids=["routes", "with-new-routes"])
def test_a_policy_allows_exactly_the_routes_the_scopes_allow(route_list, monkeypatch):
    monkeypatch.setattr(routes, "ROUTES", route_list)
    every_scope = tuple(sorted(set(SCOPES) | {s for r in route_list for s in r.scopes} | {"distribute"}))
    for held in scope_sets(every_scope):
        policy = policy_of(held)
        for route in route_list:
            if route.authorized:  # a cached policy must never open a route the key's scopes do not
                assert _allowed(policy, concrete_arn(route)) is (route.scopes <= held), (sorted(held), route)


def test_the_openapi_document_has_the_authorized_routes_with_their_parameters():
    paths = document()["paths"]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert documented == {(r.method, r.resource) for r in ROUTES if r.authorized}
    for route in ROUTES:
        if not route.authorized:
            continue
        parameters = paths[route.resource][route.method.lower()].get("parameters", [])
        by_place = {place: {p["name"] for p in parameters if p["in"] == place} for place in ("path", "query", "header")}
        assert by_place["path"] == set(route.path_parameters), route
        assert by_place["query"] == set(route.query), route
        assert by_place["header"] == set(route.headers), route


def test_every_route_is_served_by_a_function_of_the_stack(built):
    assert {route.function for route in ROUTES} <= set(built.stack.functions)
