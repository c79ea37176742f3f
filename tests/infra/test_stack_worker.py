"""The stream worker as synthesized: event source mapping, dead-letter queue, bus, sweep
schedule, least-privilege roles, alarms."""

from __future__ import annotations

import json

import pytest

from ledgerline.store import schema
from tests.infra.stack_helpers import actions_on, arn_of, as_list, function_id, function_statements, index_arn, ref

XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.fixture(scope="module")
def ids(synthesized) -> dict[str, str]:
    built = synthesized.built
    worker = built.stack.worker
    return {
        "function": function_id(synthesized, "worker"),
        "dlq": built.logical_id(worker.dead_letters),
        "bus": built.logical_id(worker.bus),
        "schedule": built.logical_id(worker.schedule),
        "scheduler_role": built.logical_id(worker.scheduler_role),
        "records": built.logical_id(built.stack.storage.records),
        "idempotency": built.logical_id(built.stack.storage.idempotency),
        "topic": built.logical_id(built.stack.monitoring.topic),
    }


@pytest.fixture(scope="module")
def mapping(synthesized, ids) -> dict:
    [esm] = [esm for esm in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
             if esm["Properties"]["FunctionName"] == ref(ids["function"])]
    return esm["Properties"]


# -- event source mapping ----------------------------------------------------------------------


def test_mapping_reads_the_records_stream_from_the_oldest_record(mapping, ids):
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [ids["records"], "StreamArn"]}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"


def test_mapping_filters_are_the_shared_stream_filters(mapping):
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]

    assert patterns == [json.loads(json.dumps(p)) for p in schema.STREAM_FILTERS]
    sources = patterns[0]["dynamodb"]["NewImage"]["table"]["S"]
    assert sorted(sources) == ["clients", "disbursements", "operations", "payments"]
    assert patterns[0]["dynamodb"]["Keys"]["SK"]["S"] == ["v0"]  # current items only


def test_mapping_retries_little_bisects_and_reports_item_failures(mapping, ids):
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == schema.STREAM_RETRY_ATTEMPTS
    assert mapping["BatchSize"] == schema.STREAM_BATCH_SIZE
    assert mapping["MaximumRecordAgeInSeconds"] == 6 * 3600
    assert mapping["ParallelizationFactor"] == 2
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": arn_of(ids["dlq"])}}


def test_the_worker_gives_up_before_lambda_does():
    # The worker dead-letters a record (with its reason) after LEDGERLINE_WORKER_MAX_ATTEMPTS
    # deliveries; Lambda must deliver it at least that often (first try + retries).
    from ledgerline.settings import Settings

    attempts = Settings.model_fields["worker_max_attempts"].default
    assert 1 + schema.STREAM_RETRY_ATTEMPTS > attempts


# -- dead-letter queue, bus, schedule --------------------------------------------------------


def test_dead_letter_queue_is_encrypted_kept_and_refuses_plain_http(synthesized, ids):
    queue = synthesized.resource(ids["dlq"])
    props = queue["Properties"]

    assert props["SqsManagedSseEnabled"] is True
    assert props["MessageRetentionPeriod"] == 14 * 86400
    assert queue["DeletionPolicy"] == "Retain"
    [policy] = [p["Properties"] for p in synthesized.resources("AWS::SQS::QueuePolicy").values()
                if p["Properties"]["Queues"] == [ref(ids["dlq"])]]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_event_bus_is_named_for_the_stage(synthesized, ids):
    assert synthesized.resource(ids["bus"])["Properties"]["Name"] == "ledgerline-dev-events"


def test_sweep_runs_hourly_with_retries_and_a_dead_letter_queue(synthesized, ids):
    props = synthesized.resource(ids["schedule"])["Properties"]

    assert props["ScheduleExpression"] == "cron(5 * * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Etc/UTC" and props["State"] == "ENABLED"
    target = props["Target"]
    assert target["Arn"] == arn_of(ids["function"])
    assert json.loads(target["Input"]) == {"ledgerline": "sweep"}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2}
    assert target["DeadLetterConfig"] == {"Arn": arn_of(ids["dlq"])}
    assert target["RoleArn"] == arn_of(ids["scheduler_role"])


def test_the_scheduler_role_can_only_invoke_the_worker_and_report_to_its_queue(synthesized, ids):
    from tests.infra.stack_helpers import role_statements

    role = synthesized.resource(ids["scheduler_role"])["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = role_statements(synthesized, ids["scheduler_role"])
    assert {a for s in statements for a in as_list(s["Action"])} == {"lambda:InvokeFunction", "sqs:SendMessage"}
    assert actions_on(statements, arn_of(ids["dlq"])) == {"sqs:SendMessage"}


# -- the function ----------------------------------------------------------------------------------


def test_worker_function_settings(synthesized, ids):
    props = synthesized.resource(ids["function"])["Properties"]

    assert (props["Handler"], props["Runtime"], props["Architectures"]) == ("handler.handler", "python3.13", ["arm64"])
    assert (props["MemorySize"], props["Timeout"]) == (256, 300)
    env = props["Environment"]["Variables"]
    assert env["LEDGERLINE_TABLE"] == ref(ids["records"])
    assert env["LEDGERLINE_IDEMPOTENCY_TABLE"] == ref(ids["idempotency"])
    assert env["LEDGERLINE_EVENT_BUS"] == ref(ids["bus"])
    assert env["LEDGERLINE_WORKER_DLQ_URL"] == ref(ids["dlq"])
    # no request starts it: Lambda would sample it itself (1 a second: nearly every batch), so
    # it traces only when the deployment asks (trace_background)
    assert props["TracingConfig"] == {"Mode": "PassThrough"}


def test_worker_role_has_least_privilege(synthesized, ids):
    statements = function_statements(synthesized, "worker")
    reads = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}

    assert actions_on(statements, arn_of(ids["records"])) == reads | writes
    assert actions_on(statements, index_arn(ids["records"])) == reads
    assert actions_on(statements, {"Fn::GetAtt": [ids["records"], "StreamArn"]}) == {
        "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
    [counters] = [s for s in statements if s["Resource"] == arn_of(ids["idempotency"])]
    assert set(as_list(counters["Action"])) == {"dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    assert counters["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["worker#attempts#*"]}}
    assert actions_on(statements, arn_of(ids["bus"])) == {"events:PutEvents"}
    assert "sqs:SendMessage" in actions_on(statements, arn_of(ids["dlq"]))
    every_action = {a for s in statements for a in as_list(s["Action"])}
    assert not {"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:DeleteTable"} & every_action
    for statement in statements:
        assert not any("*" in action for action in as_list(statement["Action"])), statement
        if "*" in as_list(statement["Resource"]):
            # X-Ray has no resource-level permissions; nor has ListStreams, which the mapping needs.
            assert set(as_list(statement["Action"])) <= XRAY_ACTIONS | {"dynamodb:ListStreams"}, statement


# -- alarms ----------------------------------------------------------------------------------------


def alarms(synthesized) -> dict[str, dict]:
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in synthesized.resources("AWS::CloudWatch::Alarm").values()}


def test_worker_alarms_exist_and_notify(synthesized, ids):
    found = alarms(synthesized)
    names = {f"ledgerline-dev-worker-{kind}" for kind in
             ("errors", "throttles", "iterator-age", "dlq-depth", "destination-failures")}

    assert names <= set(found)
    for name in names:
        assert found[name]["AlarmActions"] == [ref(ids["topic"])] and found[name]["OKActions"] == [ref(ids["topic"])]
        assert "docs/operations.md" in found[name]["AlarmDescription"]


def test_iterator_age_alarm_fires_when_the_stream_is_five_minutes_behind(synthesized, ids):
    alarm = alarms(synthesized)["ledgerline-dev-worker-iterator-age"]

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "IteratorAge", "Maximum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": ref(ids["function"])}]
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300_000, 3, 3)


def test_dead_letter_alarm_fires_on_the_first_message(synthesized, ids):
    alarm = alarms(synthesized)["ledgerline-dev-worker-dlq-depth"]

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [ids["dlq"], "QueueName"]}}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_outputs_name_the_bus_and_the_queue(synthesized, ids):
    outputs = synthesized.template["Outputs"]

    assert outputs["EventBusName"]["Value"] == ref(ids["bus"])
    assert outputs["WorkerDeadLetterQueueUrl"]["Value"] == ref(ids["dlq"])
