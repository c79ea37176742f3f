"""Webhook delivery: the outgoing events' rule, the delivery queue, the delivery function, its
dead-letter queue and alarms (docs/webhooks.md, docs/architecture.md#webhooks).

- An EventBridge rule on the bus sends every outgoing event to the delivery queue. One rule for
  all subscriptions: subscriptions are partner data (a Query per tenant), not infrastructure.
- The delivery function reads the queue (partial batch responses): an event becomes one task
  message per subscribed webhook; a task is POSTed (10 s timeout) and its attempt logged. A
  failed task's visibility is set to its backoff (30 s doubling, at most 12 h), so SQS hands it
  back then; 24 h after the first attempt the last failure goes to the dead-letter queue.
- The queue's redrive policy sends a message that keeps crashing the function (not a failed
  delivery, which the function schedules itself) to the same dead-letter queue.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.config import DeployConfig
from infra.functions import LedgerlineFunction
from infra.layers import Layers
from infra.monitoring import PERIOD, Monitoring
from infra.queues import dead_letter_queue
from infra.sizing import FUNCTION_MEMORY_MB
from infra.storage import TENANT_KEY_PREFIX, keys_starting
from ledgerline import settings as env
from ledgerline.domain.webhooks import RETRY_WINDOW_SECONDS
from ledgerline.events import outgoing

DELIVERY_TIMEOUT_SECONDS = 10
BATCH_SIZE = 5  # tasks per invocation: 5 subscribers that time out take 50 s
FUNCTION_TIMEOUT = Duration.seconds(BATCH_SIZE * DELIVERY_TIMEOUT_SECONDS + 30)
# Receives of one message before the redrive policy gives up on it: above the 13 attempts of the
# schedule (domain.webhooks), so only a message that crashes the function gets there.
MAX_RECEIVES = 20
# The function logs attempts (one item written once) and reads subscriptions and event rows.
DELIVERY_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
DELIVERY_WRITE_ACTIONS = ("dynamodb:PutItem",)


class WebhookDelivery(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        project_root: Path,
        layers: Layers,
        records: dynamodb.Table,
        bus: events.IEventBus,
        webhook_key: secretsmanager.ISecret,
        monitoring: Monitoring,
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = f"ledgerline-{config.stage}"

        self.dead_letters = dead_letter_queue(self, "DeadLetters", f"{prefix}-webhook-dlq")
        self.queue = sqs.Queue(
            self,
            "Deliveries",
            queue_name=f"{prefix}-webhook-deliveries",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # Lambda's advice: six times the function timeout, so a batch in flight is never handed out twice.
            visibility_timeout=Duration.seconds(6 * FUNCTION_TIMEOUT.to_seconds()),
            # The retry window and a day to spare: a retried task is never dropped by retention.
            retention_period=Duration.seconds(RETRY_WINDOW_SECONDS + 86_400 * 3),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVES),
        )

        self.rule = events.Rule(
            self,
            "OutgoingEvents",
            event_bus=bus,
            description="Ledgerline: every outgoing event to the webhook delivery queue",
            event_pattern=events.EventPattern(source=[outgoing.SOURCE], detail_type=list(outgoing.EVENT_NAMES)),
            targets=[targets.SqsQueue(self.queue, retry_attempts=185, max_event_age=Duration.hours(24),
                                      dead_letter_queue=self.dead_letters)],
        )

        self.function = LedgerlineFunction(
            self,
            "Delivery",
            name="webhook_delivery",
            background=True,
            description="Ledgerline: webhook deliveries (fan-out, signed POST, retries, dead letters)",
            project_root=project_root,
            layers=layers,
            config=config,
            environment={
                env.TABLE: records.table_name,
                env.WEBHOOK_KEY_ARN: webhook_key.secret_arn,
                env.WEBHOOK_QUEUE_URL: self.queue.queue_url,
                env.WEBHOOK_DLQ_URL: self.dead_letters.queue_url,
                env.WEBHOOK_TIMEOUT_SECONDS: str(DELIVERY_TIMEOUT_SECONDS),
            },
            memory_size=FUNCTION_MEMORY_MB["webhook_delivery"],
            timeout=FUNCTION_TIMEOUT,
        )
        role = self.function.role
        # Partner data only: subscriptions, event rows and the delivery log all start with T#.
        role.add_to_policy(keys_starting(TENANT_KEY_PREFIX, DELIVERY_READ_ACTIONS, records, indexes=True))
        role.add_to_policy(keys_starting(TENANT_KEY_PREFIX, DELIVERY_WRITE_ACTIONS, records))
        self.queue.grant_send_messages(role)  # the fan-out's tasks
        self.dead_letters.grant_send_messages(role)
        webhook_key.grant_read(role)
        nag.acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(records)}.Arn>/index/*]",
            "The delivery function lists a tenant's subscriptions through the by-table index; the "
            "wildcard covers exactly the indexes of this one table, and only T# partitions.",
        )
        # Consuming grants ReceiveMessage, DeleteMessage and ChangeMessageVisibility (the backoff).
        self.function.function.add_event_source(sources.SqsEventSource(
            self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True))

        self._alarms(monitoring)

    def _alarms(self, monitoring: Monitoring) -> None:
        monitoring.watch_function("webhook_delivery", self.function.function)
        depth = self.dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
        monitoring.alarm_above(
            self, "DeadLetterDepth", depth, name="webhook-dlq-depth",
            description="A webhook delivery was given up after 24 h of retries (the subscriber kept failing), "
            "or a message kept crashing the delivery function. See docs/operations.md#webhook-dead-letters.",
            threshold=0,
        )
        age = self.queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum")
        monitoring.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="webhooks: dead-letter queue", left=[depth], width=12),
            cloudwatch.GraphWidget(title="webhooks: oldest queued delivery (s)", left=[age], width=12),
        )


def _logical_id(construct: Construct) -> str:
    from aws_cdk import Stack

    stack = Stack.of(construct)
    return stack.get_logical_id(construct.node.default_child)  # type: ignore[arg-type]
