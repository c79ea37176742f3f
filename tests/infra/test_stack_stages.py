"""Stages: prod is pinned, protected, alerting and behind a WAF; dev needs none of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.config import ConfigError
from tests.infra.conftest import PROD
from tests.infra.stack_helpers import arn_of, build, function_id, ref

ROOT = Path(__file__).resolve().parents[2]


def only(synth, resource_type: str) -> tuple[str, dict]:
    [(logical_id, resource)] = synth.resources(resource_type).items()
    return logical_id, resource


# -- guards ----------------------------------------------------------------------------------

@pytest.mark.parametrize("missing", ["account", "region", "alarm_email"])
def test_prod_names_each_missing_setting(tmp_path, missing):
    context = {key: value for key, value in PROD.items() if key != missing}

    with pytest.raises(ConfigError) as refused:
        build(tmp_path, context=context)

    variable = missing.upper()
    assert f"needs {variable}." in str(refused.value)
    assert f"LEDGERLINE_{variable}" in str(refused.value) and f"'{missing}'" in str(refused.value)


def test_prod_ignores_the_account_of_the_shell_credentials():
    import aws_cdk as cdk

    from infra.config import load_config

    environ = {"CDK_DEFAULT_ACCOUNT": "111111111111", "CDK_DEFAULT_REGION": "eu-west-1",
               "LEDGERLINE_ALARM_EMAIL": "oncall@example.com"}
    with pytest.raises(ConfigError, match="needs ACCOUNT, REGION"):
        load_config(cdk.App(context={"stage": "prod"}).node, environ)
    # Other stages follow the CLI's credentials.
    assert load_config(cdk.App(context={"stage": "qa"}).node, environ).account == "111111111111"


def test_app_exits_with_one_line_naming_what_is_missing():
    environ = {"PATH": os.environ["PATH"], "LEDGERLINE_STAGE": "prod", "LEDGERLINE_REGION": "eu-west-1",
               "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=environ, capture_output=True, text=True,
                            check=False)

    assert result.returncode == 1
    assert "Ledgerline: stage prod needs ACCOUNT, ALARM_EMAIL." in result.stderr
    assert "Traceback" not in result.stderr


def test_dev_needs_no_account_region_or_email(synthesized):
    stack = synthesized.built.stack
    assert stack.resolve(stack.account) == {"Ref": "AWS::AccountId"}
    assert stack.termination_protection is False
    assert not synthesized.resources("AWS::SNS::Subscription")
    assert not synthesized.resources("AWS::WAFv2::WebACL")


# -- prod ------------------------------------------------------------------------------------

def test_prod_is_pinned_to_its_account_and_region(synthesized_prod):
    stack = synthesized_prod.built.stack
    assert (stack.account, stack.region) == (PROD["account"], PROD["region"])
    assert stack.stack_name == "Ledgerline-prod"


def test_prod_has_termination_protection(synthesized_prod):
    artifact = synthesized_prod.built.app.synth().get_stack_by_name("Ledgerline-prod")
    assert artifact.termination_protection is True


def test_prod_alarms_reach_the_on_call_address(synthesized_prod):
    _, subscription = only(synthesized_prod, "AWS::SNS::Subscription")
    topic = synthesized_prod.built.logical_id(synthesized_prod.built.stack.monitoring.topic)

    assert subscription["Properties"] == {"Endpoint": PROD["alarm_email"], "Protocol": "email", "TopicArn": ref(topic)}


def test_functions_publish_metrics_under_their_stage(synthesized, synthesized_prod):
    for synth, stage in ((synthesized, "dev"), (synthesized_prod, "prod")):
        function = synth.resource(function_id(synth, "ingest"))
        assert function["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == f"Ledgerline/{stage}"


# -- WAF -------------------------------------------------------------------------------------

def test_prod_web_acl_guards_the_api_stage(synthesized_prod):
    acl_id, acl = only(synthesized_prod, "AWS::WAFv2::WebACL")
    _, association = only(synthesized_prod, "AWS::WAFv2::WebACLAssociation")
    stage_id = synthesized_prod.built.logical_id(synthesized_prod.built.stack.api.stage)

    assert acl["Properties"]["Scope"] == "REGIONAL"
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}
    assert association["Properties"]["WebACLArn"] == arn_of(acl_id)
    arn_parts = association["Properties"]["ResourceArn"]["Fn::Join"][1]
    assert ref(stage_id) in arn_parts and "arn:aws:apigateway:eu-west-1::/restapis/" in arn_parts


def test_prod_web_acl_rules(synthesized_prod):
    _, acl = only(synthesized_prod, "AWS::WAFv2::WebACL")
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}

    rate = rules["RequestsPerIp"]
    assert rate["Priority"] == 0 and rate["Action"] == {"Block": {}}
    limit = rate["Statement"]["RateBasedStatement"]
    # Twice one partner key's steady rate (25/s) over the 5-minute window.
    assert limit == {"AggregateKeyType": "IP", "Limit": 15000, "EvaluationWindowSec": 300}

    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["VendorName"] == "AWS"
    # Ingest bodies up to 256 KiB must not be blocked by the 8 KB body-size rule.
    assert common["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    bad_inputs = rules["AWSManagedRulesKnownBadInputsRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert bad_inputs["VendorName"] == "AWS" and "RuleActionOverrides" not in bad_inputs
    for rule in rules.values():
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True


def test_waf_limit_never_blocks_one_key_at_its_steady_rate():
    from infra.config import DeployConfig

    with pytest.raises(ConfigError, match="waf_ip_limit"):
        DeployConfig(rate_limit=25, waf_ip_limit=7499)
    assert DeployConfig(rate_limit=25, waf_ip_limit=7500).web_acl_ip_limit == 7500


def test_waf_can_be_turned_on_for_another_stage(tmp_path):
    built = build(tmp_path, context={"stage": "staging", "waf": "true"})
    assert built.stack.firewall is not None


def test_a_deployment_can_trace_its_background_functions_and_choose_the_share(tmp_path):
    import json

    from tests.infra.stack_helpers import Synthesized

    built = build(tmp_path, context={"stage": "staging", "trace_background": "true", "trace_percent": "1"})
    template = built.app.synth().get_stack_by_name(built.stack.stack_name).template
    synth = Synthesized(built=built, template=json.loads(json.dumps(template)))

    for name in ("worker", "webhook_delivery", "ingest"):
        assert synth.resource(function_id(synth, name))["Properties"]["TracingConfig"] == {"Mode": "Active"}, name
    _, rule = only(synth, "AWS::XRay::SamplingRule")
    assert rule["Properties"]["SamplingRule"]["FixedRate"] == 0.01


# -- the sweep's failures and the stream's -----------------------------------------------------

def test_failed_sweeps_reach_the_dead_letter_queue(synthesized_prod):
    _, config = only(synthesized_prod, "AWS::Lambda::EventInvokeConfig")
    worker = function_id(synthesized_prod, "worker")
    queue = synthesized_prod.built.logical_id(synthesized_prod.built.stack.worker.dead_letters)

    assert config["Properties"]["FunctionName"] == ref(worker)
    assert config["Properties"]["DestinationConfig"] == {"OnFailure": {"Destination": arn_of(queue)}}
    assert config["Properties"]["MaximumRetryAttempts"] == 2
    assert config["Properties"]["MaximumEventAgeInSeconds"] == 3600


def test_event_bus_archive_keeps_outgoing_events_for_replay(synthesized):
    _, archive = only(synthesized, "AWS::Events::Archive")
    bus = synthesized.built.logical_id(synthesized.built.stack.worker.bus)

    assert archive["Properties"]["SourceArn"] == arn_of(bus)
    assert archive["Properties"]["EventPattern"] == {"source": ["ledgerline"]}
    assert archive["Properties"]["RetentionDays"] == 365


# -- API Gateway's account-level logging role ------------------------------------------------

def test_api_gateway_account_names_the_cloudwatch_role(synthesized):
    _, account = only(synthesized, "AWS::ApiGateway::Account")
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = synthesized.resource(role_id)

    assert role["Type"] == "AWS::IAM::Role"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    assert "AmazonAPIGatewayPushToCloudWatchLogs" in str(role["Properties"]["ManagedPolicyArns"])
    # Kept when the stack goes: other APIs of the account may log through it.
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"


def test_stage_waits_for_its_log_group_and_the_logging_role(synthesized):
    stage_id = synthesized.built.logical_id(synthesized.built.stack.api.stage)
    execution_logs = synthesized.built.logical_id(synthesized.built.stack.api.execution_logs)
    [account_id] = synthesized.resources("AWS::ApiGateway::Account")

    depends_on = synthesized.resource(stage_id)["DependsOn"]
    assert execution_logs in depends_on and account_id in depends_on
