"""Least privilege per function, cdk-nag with no unacknowledged finding, cfn-lint clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

import infra.nag
from tests.infra.stack_helpers import FUNCTIONS, actions_on, arn_of, as_list, build, function_statements, index_arn, ref

READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def ids(synthesized) -> dict[str, str]:
    built = synthesized.built
    storage = built.stack.storage
    return {
        "records": built.logical_id(storage.records),
        "idempotency": built.logical_id(storage.idempotency),
        "secret": built.logical_id(storage.cursor_secret),
    }


def dynamodb_statements(statements: list[dict]) -> list[dict]:
    return [s for s in statements if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]


def test_tables_function_can_only_read_the_records_table(synthesized):
    statements = function_statements(synthesized, "tables")
    records = ids(synthesized)["records"]

    assert actions_on(statements, arn_of(records)) == READ_ACTIONS
    assert actions_on(statements, index_arn(records)) == READ_ACTIONS
    allowed = {a for s in dynamodb_statements(statements) for a in as_list(s["Action"])}
    assert allowed == READ_ACTIONS  # no write of any kind, on any table
    assert actions_on(statements, ref(ids(synthesized)["secret"])) == {
        "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
    }


def test_tables_function_reads_only_tenant_partitions(synthesized):
    records = ids(synthesized)["records"]
    [statement] = dynamodb_statements(function_statements(synthesized, "tables"))

    assert arn_of(records) in as_list(statement["Resource"]) and index_arn(records) in as_list(statement["Resource"])
    # API keys (K#...), the sweep's due queue and its watermark are out of reach of the read API.
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*"]}}


def test_authorizer_can_only_get_api_key_items(synthesized):
    [statement] = dynamodb_statements(function_statements(synthesized, "authorizer"))

    assert as_list(statement["Action"]) == ["dynamodb:GetItem"]
    # The table itself, none of its indexes.
    assert statement["Resource"] == arn_of(ids(synthesized)["records"])
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["K#*"]}}


def test_ingest_function_writes_records_item_by_item(synthesized):
    statements = function_statements(synthesized, "ingest")
    table_ids = ids(synthesized)
    # The parts of TransactWriteItems; no Scan, no BatchWriteItem, no table management.
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem"}

    assert actions_on(statements, arn_of(table_ids["records"])) == READ_ACTIONS | writes
    assert actions_on(statements, index_arn(table_ids["records"])) == READ_ACTIONS  # indexes are read-only
    assert actions_on(statements, arn_of(table_ids["idempotency"])) == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    }
    assert not actions_on(statements, ref(table_ids["secret"]))


def test_distributions_function_writes_records_and_line_items_in_batches(synthesized):
    statements = function_statements(synthesized, "distributions")
    table_ids = ids(synthesized)
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
              "dynamodb:BatchWriteItem"}

    assert actions_on(statements, arn_of(table_ids["records"])) == READ_ACTIONS | writes
    assert actions_on(statements, index_arn(table_ids["records"])) == READ_ACTIONS
    assert actions_on(statements, arn_of(table_ids["idempotency"])) == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    }


def test_only_the_distributions_function_invokes_a_function_and_only_itself(synthesized):
    built = synthesized.built
    for name in FUNCTIONS:
        invokes = [s for s in function_statements(synthesized, name)
                   if "lambda:InvokeFunction" in as_list(s["Action"])]
        if name != "distributions":
            assert invokes == [], name
            continue
        [statement] = invokes
        itself = built.logical_id(built.stack.functions["distributions"].function)
        assert as_list(statement["Action"]) == ["lambda:InvokeFunction"]
        assert as_list(statement["Resource"]) == [arn_of(itself)]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_no_wildcards_except_xray(synthesized, name):
    for statement in function_statements(synthesized, name):
        actions = set(as_list(statement["Action"]))
        assert not any("*" in action for action in actions), statement
        if "*" in as_list(statement["Resource"]):
            assert actions <= XRAY_ACTIONS, statement


@pytest.mark.parametrize("name", FUNCTIONS)
def test_logs_go_only_to_the_functions_own_group(synthesized, name):
    function = synthesized.built.stack.functions[name]
    log_group = synthesized.built.logical_id(function.log_group)
    statements = [s for s in function_statements(synthesized, name)
                  if any(a.startswith("logs:") for a in as_list(s["Action"]))]

    assert [s["Resource"] for s in statements] == [arn_of(log_group)]


# -- cdk-nag -----------------------------------------------------------------------------------


def test_cdk_nag_has_no_unacknowledged_finding(built):
    report = AwsSolutionsChecks().validate_scope(built.app)

    findings = [f"{v.rule_name}: {[r.construct_path for r in v.violating_resources]}" for v in report.violations]
    assert report.success, "\n".join(findings)


def test_the_real_synth_passed_the_nag_plugin(synthesized):
    report = json.loads((synthesized.built.outdir / "validation-report.json").read_text())

    assert all(not plugin.get("violations") for plugin in report["pluginReports"])


@pytest.fixture(scope="module")
def unacknowledged(tmp_path_factory):
    """The app built with every acknowledgement recorded instead of applied, then synthesized."""
    recorded: list[tuple[str, str, str]] = []
    original = infra.nag.acknowledge
    infra.nag.acknowledge = lambda scope, rule_id, reason: recorded.append((scope.node.path, rule_id, reason))
    try:
        built = build(tmp_path_factory.mktemp("cdk.out.unacknowledged"))
    finally:
        infra.nag.acknowledge = original
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        built.app.synth()
    report = json.loads((built.outdir / "validation-report.json").read_text())
    findings = {
        (resource["constructPath"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingConstructs"]
    }
    return recorded, findings, failure.value


def test_the_registered_nag_plugin_stops_synth_on_findings(unacknowledged):
    _, findings, failure = unacknowledged

    assert findings, "without acknowledgements the stack must have findings"
    assert "validation-report.json" in str(failure)


def _covers(ack_path: str, finding_path: str) -> bool:
    return finding_path == ack_path or finding_path.startswith(ack_path + "/")


def test_every_finding_is_acknowledged_and_every_acknowledgement_is_used(unacknowledged):
    recorded, findings, _ = unacknowledged

    uncovered = [f for f in findings if not any(_covers(path, f[0]) and rule == f[1] for path, rule, _ in recorded)]
    unused = [(path, rule) for path, rule, _ in recorded if not any(_covers(path, f[0]) and rule == f[1] for f in findings)]
    assert not uncovered, f"findings without an acknowledgement: {sorted(uncovered)}"
    assert not unused, f"acknowledgements that match no finding (stale): {unused}"


def test_acknowledgements_carry_a_reason(unacknowledged, built):
    recorded, _, _ = unacknowledged

    assert recorded
    for _, rule_id, reason in recorded:
        assert len(reason.strip()) >= infra.nag.MIN_REASON_LENGTH, rule_id
    # And they reach the construct tree of the real app as CDK acknowledgements.
    acknowledged = {
        rule
        for node in built.app.node.find_all()
        for entry in node.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    }
    assert {rule_id for _, rule_id, _ in recorded} <= {rule.split("::", 1)[-1] for rule in acknowledged}


def test_acknowledging_without_a_reason_is_refused(built):
    with pytest.raises(ValueError, match="real reason"):
        infra.nag.acknowledge(built.stack, "AwsSolutions-IAM5", "because")


# -- cfn-lint ----------------------------------------------------------------------------------


def test_template_is_cfn_lint_clean(synthesized):
    template = synthesized.built.outdir / f"{synthesized.built.stack.stack_name}.template.json"

    # W3005 (redundant DependsOn) is how CDK itself orders roles before functions.
    matches = lint_file(Path(template), config=ManualArgs(regions=["us-east-1", "eu-west-1"], ignore_checks=["W3005"]))
    assert not matches, "\n".join(str(match) for match in matches)
