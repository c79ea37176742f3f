"""Alarms (API 5XX rate, each function's errors and throttles, the worker's stream and DLQ) and the dashboard."""

from __future__ import annotations

import json

import pytest

from tests.infra.stack_helpers import FUNCTIONS, function_id, ref


def alarms(synthesized) -> dict[str, dict]:
    return {alarm["Properties"]["AlarmName"]: alarm["Properties"]
            for alarm in synthesized.resources("AWS::CloudWatch::Alarm").values()}


def topic_id(synthesized) -> str:
    return synthesized.built.logical_id(synthesized.built.stack.monitoring.topic)


def test_alarm_set_is_complete(synthesized):
    expected = {"ledgerline-dev-api-5xx-rate"} | {
        f"ledgerline-dev-{name}-{kind}" for name in (*FUNCTIONS, "worker", "webhook_delivery")
        for kind in ("errors", "throttles")
    } | {f"ledgerline-dev-worker-{kind}" for kind in ("iterator-age", "dlq-depth", "destination-failures")} | {
        "ledgerline-dev-webhook-dlq-depth"} | {
        f"ledgerline-dev-{table}-table-{kind}" for table in ("records", "idempotency") for kind in ("throttles", "latency")
    }
    assert set(alarms(synthesized)) == expected


def table_id(synthesized, name: str) -> str:
    return synthesized.built.logical_id(getattr(synthesized.built.stack.storage, name))


@pytest.mark.parametrize("table", ["records", "idempotency"])
def test_table_throttle_alarm_adds_read_and_write_throttles_of_that_table(synthesized, table):
    alarm = alarms(synthesized)[f"ledgerline-dev-{table}-table-throttles"]
    stats = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}

    assert {stat["Metric"]["MetricName"] for stat in stats.values()} == {"ReadThrottleEvents", "WriteThrottleEvents"}
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == "AWS/DynamoDB" and stat["Stat"] == "Sum"
        assert stat["Metric"]["Dimensions"] == [{"Name": "TableName", "Value": ref(table_id(synthesized, table))}]
    [expression] = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "reads + writes"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)


@pytest.mark.parametrize("table", ["records", "idempotency"])
def test_table_latency_alarm_watches_the_slowest_operation_p99(synthesized, table):
    alarm = alarms(synthesized)[f"ledgerline-dev-{table}-table-latency"]
    stats = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]

    operations = set()
    for stat in stats:
        assert (stat["Metric"]["MetricName"], stat["Stat"]) == ("SuccessfulRequestLatency", "p99")
        dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
        assert dimensions["TableName"] == ref(table_id(synthesized, table))
        operations.add(dimensions["Operation"])
    assert {"GetItem", "Query", "PutItem", "UpdateItem", "TransactWriteItems"} <= operations
    [expression] = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"].startswith("MAX([")
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (100, 3, 3)


def test_every_alarm_notifies_the_topic_both_ways(synthesized):
    for name, alarm in alarms(synthesized).items():
        assert alarm["AlarmActions"] == [ref(topic_id(synthesized))], name
        assert alarm["OKActions"] == [ref(topic_id(synthesized))], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert "docs/operations.md" in alarm["AlarmDescription"], name


def test_api_5xx_alarm_is_a_rate_over_enough_requests(synthesized):
    alarm = alarms(synthesized)["ledgerline-dev-api-5xx-rate"]
    metrics = {metric["Id"]: metric for metric in alarm["Metrics"]}

    assert metrics["errors"]["MetricStat"]["Metric"]["MetricName"] == "5XXError"
    assert metrics["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    [expression] = [metric for metric in alarm["Metrics"] if "Expression" in metric]
    assert expression["Expression"] == "IF(requests >= 20, 100 * errors / requests, 0)"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanThreshold")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize(("kind", "metric", "threshold"), [("errors", "Errors", 3), ("throttles", "Throttles", 1)])
def test_function_alarms_watch_that_function(synthesized, name, kind, metric, threshold):
    alarm = alarms(synthesized)[f"ledgerline-dev-{name}-{kind}"]

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", metric, "Sum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": ref(function_id(synthesized, name))}]
    assert alarm["Threshold"] == threshold and alarm["Period"] == 300


def test_alarm_topic_refuses_unencrypted_publishers(synthesized):
    [policy] = synthesized.resources("AWS::SNS::TopicPolicy").values()

    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert policy["Properties"]["Topics"] == [ref(topic_id(synthesized))]


def test_one_dashboard_shows_every_function_and_alarm(synthesized):
    [dashboard] = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])

    assert dashboard["Properties"]["DashboardName"] == "ledgerline-dev"
    for name in FUNCTIONS:
        assert f"{name}: invocations, errors, throttles" in body
    for alarm_id in synthesized.resources("AWS::CloudWatch::Alarm"):
        assert alarm_id in body
