"""Webhook delivery as synthesized: the bus rule to the queue, the delivery function on the queue,
its retries by visibility, the dead-letter queue and its alarm, least privilege."""

from __future__ import annotations

import json

import pytest

from ledgerline.domain.webhooks import MAX_RETRY_SECONDS, RETRY_WINDOW_SECONDS
from ledgerline.events.outgoing import EVENT_NAMES
from tests.infra.stack_helpers import actions_on, arn_of, as_list, function_id, function_statements, ref


@pytest.fixture(scope="module")
def ids(synthesized) -> dict[str, str]:
    built = synthesized.built
    deliveries = built.stack.webhook_delivery
    return {
        "function": function_id(synthesized, "webhook_delivery"),
        "queue": built.logical_id(deliveries.queue),
        "dlq": built.logical_id(deliveries.dead_letters),
        "rule": built.logical_id(deliveries.rule),
        "bus": built.logical_id(built.stack.worker.bus),
        "records": built.logical_id(built.stack.storage.records),
        "key": built.logical_id(built.stack.storage.webhook_key),
    }


def test_one_rule_sends_every_outgoing_event_to_the_delivery_queue(synthesized, ids):
    rule = synthesized.resource(ids["rule"])["Properties"]
    assert rule["EventBusName"] == ref(ids["bus"])
    assert rule["EventPattern"] == {"source": ["ledgerline"], "detail-type": list(EVENT_NAMES)}
    [target] = rule["Targets"]
    assert target["Arn"] == arn_of(ids["queue"])
    assert target["DeadLetterConfig"] == {"Arn": arn_of(ids["dlq"])}
    assert len(synthesized.resources("AWS::Events::Rule")) == 1  # none per subscription: they are data


def test_the_queue_keeps_a_task_through_the_retry_window_and_redrives_crashes(synthesized, ids):
    queue = synthesized.resource(ids["queue"])["Properties"]
    assert queue["MessageRetentionPeriod"] > RETRY_WINDOW_SECONDS
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == arn_of(ids["dlq"])
    assert queue["RedrivePolicy"]["maxReceiveCount"] > 13  # above the schedule's attempts
    assert queue["SqsManagedSseEnabled"] is True
    assert MAX_RETRY_SECONDS <= 12 * 3600  # ChangeMessageVisibility's maximum


def test_the_delivery_function_reads_the_queue_with_partial_batch_responses(synthesized, ids):
    [mapping] = [m["Properties"] for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
                 if m["Properties"]["FunctionName"] == ref(ids["function"])]
    assert mapping["EventSourceArn"] == arn_of(ids["queue"])
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    function = synthesized.resource(ids["function"])["Properties"]
    queue = synthesized.resource(ids["queue"])["Properties"]
    assert function["Timeout"] >= mapping["BatchSize"] * 10  # every task of a batch may take its 10 s
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]
    env = function["Environment"]["Variables"]
    assert env["LEDGERLINE_WEBHOOK_TIMEOUT_SECONDS"] == "10"
    assert env["LEDGERLINE_WEBHOOK_KEY_ARN"] == ref(ids["key"])
    assert "LEDGERLINE_WEBHOOK_ALLOW_LOOPBACK" not in env  # loopback is for the local stack only
    assert function["TracingConfig"] == {"Mode": "PassThrough"}  # traced only with trace_background


def test_the_delivery_function_has_least_privilege(synthesized, ids):
    statements = function_statements(synthesized, "webhook_delivery")
    assert actions_on(statements, arn_of(ids["records"])) == {"dynamodb:GetItem", "dynamodb:Query",
                                                               "dynamodb:PutItem"}
    for statement in statements:
        if arn_of(ids["records"]) in as_list(statement["Resource"]):
            assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*"]}}
    queue_actions = actions_on(statements, arn_of(ids["queue"]))
    assert {"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility"} <= queue_actions
    assert "sqs:SendMessage" in actions_on(statements, arn_of(ids["dlq"]))
    assert "sqs:ReceiveMessage" not in actions_on(statements, arn_of(ids["dlq"]))
    assert not any("dynamodb:Scan" in json.dumps(s["Action"]) for s in statements)


def test_a_dead_letter_raises_the_alarm(synthesized, ids):
    [alarm] = [a["Properties"] for a in synthesized.resources("AWS::CloudWatch::Alarm").values()
               if a["Properties"]["AlarmName"] == "ledgerline-dev-webhook-dlq-depth"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [ids["dlq"], "QueueName"]}}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["AlarmActions"]
