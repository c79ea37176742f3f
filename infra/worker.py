"""The stream worker: its function on the records table's stream, the dead-letter queue, the
event bus it publishes to, the sweep's schedule, and their alarms.

- Event source mapping: the filter patterns of `ledgerline.store.schema.STREAM_FILTERS` (the
  same ones the local stack's stream pump applies), partial batch responses, bisection of a
  failing batch, bounded retries and record age, and the dead-letter queue as on-failure
  destination (Lambda sends it the batch's coordinates when a record used up its retries).
- The worker itself sends a record that keeps failing to the same queue, with its reason,
  after `LEDGERLINE_WORKER_MAX_ATTEMPTS` deliveries (see ledgerline.worker), so one bad record
  holds its shard for seconds, not for the stream's 24 hours.
- EventBridge Scheduler invokes the same function every hour with `{"ledgerline": "sweep"}`:
  the first run after midnight UTC moves what became overdue; the others find an empty queue
  and cost a few reads.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from infra import nag
from infra.config import DeployConfig
from infra.functions import LedgerlineFunction
from infra.layers import Layers
from infra.monitoring import PERIOD, Monitoring
from infra.queues import dead_letter_queue
from infra.sizing import FUNCTION_MEMORY_MB
from infra.storage import keys_starting
from ledgerline import settings as env
from ledgerline.events import outgoing
from ledgerline.store.schema import STREAM_BATCH_SIZE, STREAM_FILTERS, STREAM_RETRY_ATTEMPTS

# What the worker does on the records table: consistent reads of a disbursement's state
# (BatchGetItem), its payments (Query on GSI2), the sweep's due queue (Query) and watermark
# (GetItem); TransactWriteItems of a statement with its status row, event rows and due entries,
# which IAM authorises as Put, Update, Delete and ConditionCheck; single conditional Puts of the
# rows of one change and their event rows, Put/Delete for the sweep's watermark and stale due
# entries. No Scan, no BatchWriteItem.
WORKER_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
WORKER_WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                        "dynamodb:ConditionCheckItem")
EVENT_ARCHIVE_DAYS = 365
# Attempt counters of failing records, in the idempotency table (TTL cleans them up).
ATTEMPT_COUNTER_ACTIONS = ("dynamodb:UpdateItem", "dynamodb:DeleteItem")
ATTEMPT_COUNTER_PREFIX = "worker#attempts#"

MAX_RECORD_AGE = Duration.hours(6)
PARALLELIZATION_FACTOR = 2
SWEEP_EVERY = "cron(5 * * * ? *)"  # minute 5 of every hour, UTC
# Lambda's own retries of a sweep that raised, before the on-failure destination gets it.
SWEEP_ASYNC_RETRIES = 2
# Alarms: the stream falling behind, anything in the dead-letter queue, failed destinations.
ITERATOR_AGE_MS = 5 * 60 * 1000


class Worker(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        project_root: Path,
        layers: Layers,
        records: dynamodb.Table,
        idempotency: dynamodb.Table,
        monitoring: Monitoring,
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = f"ledgerline-{config.stage}"

        self.dead_letters = dead_letter_queue(self, "DeadLetters", f"{prefix}-worker-dlq")
        nag.acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the stream worker (on-failure destination "
            "and the worker's own give-up path); nothing consumes it automatically, so it needs no DLQ.",
        )

        self.bus = events.EventBus(self, "Bus", event_bus_name=f"{prefix}-events",
                                   description="Ledgerline outgoing events (source ledgerline)")
        # Every outgoing event, kept for replay to a consumer that missed some (docs/operations.md).
        self.archive = self.bus.archive(
            "Archive",
            archive_name=f"{prefix}-events",
            description="Ledgerline outgoing events, for replay",
            event_pattern=events.EventPattern(source=[outgoing.SOURCE]),
            retention=Duration.days(EVENT_ARCHIVE_DAYS),
        )

        self.function = LedgerlineFunction(
            self,
            "Worker",
            name="worker",
            background=True,
            description="Ledgerline: derived rows, statements and outgoing events from the table stream; daily sweep",
            project_root=project_root,
            layers=layers,
            config=config,
            environment={
                env.TABLE: records.table_name,
                env.IDEMPOTENCY_TABLE: idempotency.table_name,
                env.EVENT_BUS: self.bus.event_bus_name,
                env.WORKER_DLQ_URL: self.dead_letters.queue_url,
            },
            # Small records, waiting on DynamoDB and EventBridge most of the time (infra/sizing.py).
            memory_size=FUNCTION_MEMORY_MB["worker"],
            # A stream batch of 100 takes seconds; the sweep stops itself 20 s before the end.
            timeout=Duration.minutes(5),
        )
        role = self.function.role

        records.grant(role, *WORKER_READ_ACTIONS)
        role.add_to_policy(iam.PolicyStatement(actions=list(WORKER_WRITE_ACTIONS), resources=[records.table_arn]))
        role.add_to_policy(keys_starting(ATTEMPT_COUNTER_PREFIX, ATTEMPT_COUNTER_ACTIONS, idempotency))
        self.bus.grant_put_events_to(role)
        self.dead_letters.grant_send_messages(role)

        self.function.function.add_event_source(sources.DynamoEventSource(
            records,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=STREAM_BATCH_SIZE,
            bisect_batch_on_error=True,
            report_batch_item_failures=True,
            retry_attempts=STREAM_RETRY_ATTEMPTS,
            max_record_age=MAX_RECORD_AGE,
            parallelization_factor=PARALLELIZATION_FACTOR,
            on_failure=sources.SqsDlq(self.dead_letters),
            filters=[lambda_.FilterCriteria.filter(pattern) for pattern in STREAM_FILTERS],
        ))

        # The scheduler's own role: invoke this function and report failed invocations to the DLQ.
        self.scheduler_role = iam.Role(
            self,
            "SweepSchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="EventBridge Scheduler: invoke the Ledgerline worker's sweep",
        )
        nag.acknowledge(
            self.scheduler_role,
            f"AwsSolutions-IAM5[Resource::<{Stack.of(self).get_logical_id(self.function.function.node.default_child)}.Arn>:*]",
            "lambda:InvokeFunction granted by CDK on this one function and its own qualifiers "
            "(versions, aliases); the scheduler invokes the unqualified function.",
        )
        self.schedule = scheduler.Schedule(
            self,
            "Sweep",
            schedule_name=f"{prefix}-sweep",
            description="Ledgerline: move disbursements whose due date passed to overdue",
            schedule=scheduler.ScheduleExpression.expression(SWEEP_EVERY),
            target=scheduler_targets.LambdaInvoke(
                self.function.function,
                input=scheduler.ScheduleTargetInput.from_object({"ledgerline": "sweep"}),
                retry_attempts=2,
                max_event_age=Duration.hours(1),
                dead_letter_queue=self.dead_letters,
                role=self.scheduler_role,
            ),
        )

        # The scheduler's dead-letter queue only receives invocations Lambda refused (throttled,
        # permissions); the scheduler invokes asynchronously, so a sweep that raises is retried
        # by Lambda and then sent here by this on-failure destination, with its request and error.
        self.function.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dead_letters),
            retry_attempts=SWEEP_ASYNC_RETRIES,
            max_event_age=Duration.hours(1),
        )

        self._alarms(monitoring)

    def _alarms(self, monitoring: Monitoring) -> None:
        function = self.function.function
        monitoring.watch_function("worker", function)
        iterator_age = function.metric("IteratorAge", period=PERIOD, statistic="Maximum")
        monitoring.alarm_above(
            self, "IteratorAge", iterator_age, name="worker-iterator-age",
            description="The stream worker is more than 5 minutes behind the table for 15 minutes: derived "
            "rows and events are late. See docs/operations.md#alarms and docs/derived-data.md.",
            threshold=ITERATOR_AGE_MS, periods=3,
        )
        depth = self.dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
        monitoring.alarm_above(
            self, "DeadLetterDepth", depth, name="worker-dlq-depth",
            description="Something waits in the worker's dead-letter queue: a stream record the worker gave "
            "up on (with its reason), a stream batch Lambda gave up on (shard pointers only, readable for "
            "24 h), or a sweep that failed after retries (request and error). See "
            "docs/operations.md#worker-alarms and docs/derived-data.md.",
            threshold=0,
        )
        failed_destinations = function.metric("DestinationDeliveryFailures", period=PERIOD, statistic="Sum")
        monitoring.alarm_above(
            self, "DestinationDeliveryFailures", failed_destinations, name="worker-destination-failures",
            description="Lambda could not send a failed stream batch to the dead-letter queue: the record "
            "is lost to the worker. See docs/operations.md#alarms and docs/derived-data.md.",
            threshold=0,
        )
        monitoring.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="worker: stream iterator age (ms)", left=[iterator_age], width=12),
            cloudwatch.GraphWidget(title="worker: dead-letter queue", left=[depth, failed_destinations], width=12),
        )
