"""Reading the synthesized template: roles' statements, API routes, references."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

FUNCTIONS = ("authorizer", "ingest", "tables", "distributions", "webhooks")
# Skip asset bundling: no pip download, no Docker; the dependency layer keeps its fixed hash.
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


@dataclass
class Built:
    app: Any
    stack: Any
    outdir: Path

    def logical_id(self, construct: Any) -> str:
        """The template's logical id of an L2 construct (or of an L1 resource)."""
        resource = getattr(construct.node, "default_child", None) or construct
        return self.stack.resolve(self.stack.get_logical_id(resource))


@dataclass
class Synthesized:
    built: Built
    template: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def resource(self, logical_id: str) -> dict[str, Any]:
        return self.template["Resources"][logical_id]


def build(outdir: Path, context: dict[str, Any] | None = None) -> Built:
    import app as cdk_app

    app, stack = cdk_app.build_app(context={**NO_BUNDLING, **(context or {})}, outdir=str(outdir), environ={})
    return Built(app=app, stack=stack, outdir=outdir)


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_id(synth: Synthesized, name: str) -> str:
    return synth.built.logical_id(synth.built.stack.functions[name].function)


def role_statements(synth: Synthesized, role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of every inline policy attached to the role."""
    statements = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if ref(role_logical_id) in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    role = synth.resource(role_logical_id)["Properties"]
    for policy in role.get("Policies", []):
        statements.extend(policy["PolicyDocument"]["Statement"])
    return statements


def function_statements(synth: Synthesized, name: str) -> list[dict[str, Any]]:
    role_id = synth.resource(function_id(synth, name))["Properties"]["Role"]["Fn::GetAtt"][0]
    return role_statements(synth, role_id)


def actions_on(statements: list[dict[str, Any]], resource: Any) -> set[str]:
    """Actions allowed on `resource` (a template expression) by these statements."""
    return {
        action
        for statement in statements
        if statement["Effect"] == "Allow" and resource in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }


def index_arn(table_logical_id: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [arn_of(table_logical_id), "/index/*"]]}


def routes(synth: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, path) -> the method's properties, paths rebuilt from the resources."""
    resources = synth.resources("AWS::ApiGateway::Resource")

    def path_of(resource_ref: Any) -> str:
        if "Fn::GetAtt" in resource_ref:  # the API's root resource
            return ""
        resource = resources[resource_ref["Ref"]]["Properties"]
        return f"{path_of(resource['ParentId'])}/{resource['PathPart']}"

    return {
        (method["Properties"]["HttpMethod"], path_of(method["Properties"]["ResourceId"]) or "/"): method["Properties"]
        for method in synth.resources("AWS::ApiGateway::Method").values()
        if method["Properties"]["HttpMethod"] != "ANY"  # the 405 mocks (test_stack_api.py)
    }


def integration_function(method: dict[str, Any]) -> str:
    """Logical id of the Lambda function behind a proxy integration."""
    parts = method["Integration"]["Uri"]["Fn::Join"][1]
    [target] = [part["Fn::GetAtt"][0] for part in parts if isinstance(part, dict) and "Fn::GetAtt" in part]
    return target
