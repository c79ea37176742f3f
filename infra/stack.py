"""The Ledgerline stack: every construct of the system, wired together in one place."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import nag
from infra.api import Api
from infra.config import DeployConfig
from infra.functions import LedgerlineFunction
from infra.layers import Layers
from infra.monitoring import Monitoring
from infra.sizing import FUNCTION_MEMORY_MB
from infra.storage import TENANT_KEY_PREFIX, Storage, keys_starting
from infra.waf import ApiFirewall
from infra.webhooks import WebhookDelivery
from infra.worker import Worker
from ledgerline import settings as env

# What the ingest function does on the records table: validation reads (GetItem for current
# records and references, BatchGetItem, Query on item collections and indexes) and one
# TransactWriteItems per event, which IAM authorises as its parts: Put (versions, current
# items, ingested_events rows), Update (link counters), ConditionCheck (references) and Delete
# (releasing a uniqueness guard item, e.g. an installment number; versions are never deleted,
# but IAM cannot tell a guard's sort key from a version's). No Scan, no BatchWriteItem.
# Reads are allowed on the table and its indexes, writes on the table only.
RECORDS_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
INGEST_RECORDS_WRITE_ACTIONS = (
    "dynamodb:ConditionCheckItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# Distributions write the same kinds of items, and a large run's line items in batches.
DISTRIBUTIONS_RECORDS_WRITE_ACTIONS = (*INGEST_RECORDS_WRITE_ACTIONS, "dynamodb:BatchWriteItem")
# Powertools' DynamoDBPersistenceLayer: read, claim, complete, and delete on failure.
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# The authorizer reads one item: K#{sha256(key)} / key.
AUTHORIZER_KEY_PREFIX = "K#"
# Partner data (records, versions, derived rows, index entries): T#{tenant}#...


class LedgerlineStack(Stack):
    """Storage, layers, functions, API and monitoring of one Ledgerline stage."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeployConfig, project_root: Path, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        storage = Storage(self, "Storage")
        layers = Layers(self, "Layers", project_root=project_root)
        records, idempotency = storage.records, storage.idempotency

        def function(name: str, description: str, **settings) -> LedgerlineFunction:
            return LedgerlineFunction(
                self,
                name.title(),
                name=name,
                description=description,
                project_root=project_root,
                layers=layers,
                config=config,
                **settings,
            )

        # -- functions -------------------------------------------------------------------
        # Memory buys CPU on Lambda. Timeouts stay under API Gateway's 29 s integration limit so
        # that a slow request ends with the function's own answer, not a gateway timeout.
        # No reserved concurrency: it would carve capacity out of the account pool (and fail to
        # deploy on accounts with the default low limit); usage plans and the stage throttle
        # already bound the load, and the throttles alarm says when that is not enough.
        authorizer = function(
            "authorizer",
            "Ledgerline: API key -> tenant, scopes, usage-plan key",
            environment={env.TABLE: records.table_name},
            # One GetItem per cache miss: small, but latency-critical (it precedes every call).
            memory_size=FUNCTION_MEMORY_MB["authorizer"],
            timeout=Duration.seconds(5),
        )
        authorizer.role.add_to_policy(keys_starting(AUTHORIZER_KEY_PREFIX, ["dynamodb:GetItem"], records))

        ingest = function(
            "ingest",
            "Ledgerline: POST /ingest (validate, version, store)",
            environment={
                env.TABLE: records.table_name,
                env.IDEMPOTENCY_TABLE: idempotency.table_name,
            },
            # Four DynamoDB round trips and a few ms of CPU (infra/sizing.py).
            memory_size=FUNCTION_MEMORY_MB["ingest"],
            # Room for optimistic-lock retries on a contended record while staying under the
            # gateway's 29 s; a timed-out request's idempotency record expires with the
            # invocation (register_lambda_context), so the partner's retry can go ahead.
            timeout=Duration.seconds(20),
        )
        records.grant(ingest.role, *RECORDS_READ_ACTIONS)
        ingest.role.add_to_policy(
            iam.PolicyStatement(actions=list(INGEST_RECORDS_WRITE_ACTIONS), resources=[records.table_arn])
        )
        idempotency.grant(ingest.role, *IDEMPOTENCY_ACTIONS)

        tables = function(
            "tables",
            "Ledgerline: read API (tables, records, history, as-of, changes) and docs",
            environment={
                env.TABLE: records.table_name,
                env.CURSOR_SECRET_ARN: storage.cursor_secret.secret_arn,
            },
            # Pages of up to 500 items and history rebuilds: serialisation-heavy.
            memory_size=FUNCTION_MEMORY_MB["tables"],
            timeout=Duration.seconds(15),
        )
        # The read API never writes, and reads only partner data: every item and index entry it
        # may touch has a partition key starting with T# (never API keys, due queue or sweep state).
        tables.role.add_to_policy(keys_starting(TENANT_KEY_PREFIX, RECORDS_READ_ACTIONS, records, indexes=True))
        storage.cursor_secret.grant_read(tables.role)

        distributions = function(
            "distributions",
            "Ledgerline: distributions (asset register, runs, payment files, notices)",
            environment={
                env.TABLE: records.table_name,
                env.IDEMPOTENCY_TABLE: idempotency.table_name,
                env.CURSOR_SECRET_ARN: storage.cursor_secret.secret_arn,
                env.DEMO_SEED: "true" if config.demo_seed else "false",
            },
            # A 10,000-holder run allocates and writes 10,000 lines (infra/sizing.py).
            memory_size=FUNCTION_MEMORY_MB["distributions"],
            # Under the gateway's 29 s, with room for a 10,000-holder run's line writes.
            timeout=Duration.seconds(28),
        )
        records.grant(distributions.role, *RECORDS_READ_ACTIONS)
        distributions.role.add_to_policy(
            iam.PolicyStatement(actions=list(DISTRIBUTIONS_RECORDS_WRITE_ACTIONS), resources=[records.table_arn])
        )
        idempotency.grant(distributions.role, *IDEMPOTENCY_ACTIONS)
        storage.cursor_secret.grant_read(distributions.role)
        # A run too large to finish within its request is finished by the function invoking
        # itself asynchronously (ledgerline.run_completion). A policy of its own: the function
        # waits for its role's default policy, which therefore cannot name the function.
        iam.Policy(
            self,
            "DistributionsFinishRuns",
            roles=[distributions.role],
            statements=[iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                            resources=[distributions.function.function_arn])],
        )

        webhooks = function(
            "webhooks",
            "Ledgerline: webhook subscriptions and their delivery log",
            environment={
                env.TABLE: records.table_name,
                env.IDEMPOTENCY_TABLE: idempotency.table_name,
                env.CURSOR_SECRET_ARN: storage.cursor_secret.secret_arn,
                env.WEBHOOK_KEY_ARN: storage.webhook_key.secret_arn,
            },
            memory_size=FUNCTION_MEMORY_MB["webhooks"],
            # Registration resolves the URL's host; well under the gateway's 29 s.
            timeout=Duration.seconds(15),
        )
        # Subscriptions are partner data: reads and versioned writes of T# items only.
        webhooks.role.add_to_policy(keys_starting(TENANT_KEY_PREFIX, RECORDS_READ_ACTIONS, records, indexes=True))
        webhooks.role.add_to_policy(keys_starting(TENANT_KEY_PREFIX, ["dynamodb:PutItem", "dynamodb:UpdateItem"],
                                                  records))
        idempotency.grant(webhooks.role, *IDEMPOTENCY_ACTIONS)
        storage.cursor_secret.grant_read(webhooks.role)
        storage.webhook_key.grant_read(webhooks.role)

        for fn in (ingest, tables, distributions, webhooks):
            nag.acknowledge(
                fn.role,
                f"AwsSolutions-IAM5[Resource::<{self.get_logical_id(records.node.default_child)}.Arn>/index/*]",
                "Reads go through the records table's three GSIs (list by table, by disbursement, "
                "by client); the wildcard covers exactly those indexes of this one table.",
            )

        # -- API -------------------------------------------------------------------------
        api = Api(
            self,
            "Api",
            config=config,
            authorizer_function=authorizer.function,
            route_functions={"ingest": ingest.function, "tables": tables.function,
                             "distributions": distributions.function, "webhooks": webhooks.function},
        )
        # A web ACL in front of the stage (prod by default): infra/waf.py.
        self.firewall = ApiFirewall(self, "Firewall", config=config, stage=api.stage) if config.web_acl else None

        # -- monitoring ------------------------------------------------------------------
        monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            rest_api=api.rest_api,
            tables={"records": records, "idempotency": idempotency},
        )
        for fn in (authorizer, ingest, tables, distributions, webhooks):
            monitoring.watch_function(fn.name, fn.function)

        # -- worker ----------------------------------------------------------------------
        # The stream worker (infra/worker.py): its function on the records table's stream, the
        # dead-letter queue, the event bus, the sweep's schedule, and its alarms.
        worker = Worker(
            self,
            "StreamWorker",
            config=config,
            project_root=project_root,
            layers=layers,
            records=records,
            idempotency=idempotency,
            monitoring=monitoring,
        )
        nag.acknowledge(
            worker.function.role,
            f"AwsSolutions-IAM5[Resource::<{self.get_logical_id(records.node.default_child)}.Arn>/index/*]",
            "The worker queries one disbursement's payments through GSI2 (by disbursement); the "
            "wildcard covers exactly the indexes of this one table.",
        )

        # Webhook deliveries (infra/webhooks.py): the bus's rule, the delivery queue, the delivery
        # function, its dead-letter queue and alarm.
        deliveries = WebhookDelivery(
            self,
            "WebhookDelivery",
            config=config,
            project_root=project_root,
            layers=layers,
            records=records,
            bus=worker.bus,
            webhook_key=storage.webhook_key,
            monitoring=monitoring,
        )

        monitoring.finish()

        self.storage, self.layers, self.api, self.monitoring = storage, layers, api, monitoring
        self.worker, self.webhook_delivery = worker, deliveries
        self.functions = {fn.name: fn for fn in (authorizer, ingest, tables, distributions, webhooks, worker.function,
                                                 deliveries.function)}

        # -- outputs (the admin CLI and docs/operations.md use these) -------------------------
        for name, value, description in (
            ("ApiUrl", api.stage.url_for_path("/"), "Base URL of the partner API"),
            ("UsagePlanId", api.usage_plan.usage_plan_id, "python -m tools.admin create --usage-plan-id"),
            ("RecordsTableName", records.table_name, "python -m tools.admin --table"),
            ("IdempotencyTableName", idempotency.table_name, "Powertools idempotency table"),
            ("CursorSecretArn", storage.cursor_secret.secret_arn, "Cursor-signing key (rotate: docs/operations.md)"),
            ("AlarmTopicArn", monitoring.topic.topic_arn, "Subscribe on-call here"),
            ("DashboardName", monitoring.dashboard.dashboard_name, "CloudWatch dashboard"),
            ("EventBusName", worker.bus.event_bus_name, "Outgoing events (source ledgerline)"),
            ("WorkerDeadLetterQueueUrl", worker.dead_letters.queue_url, "Stream records the worker gave up on"),
            ("WebhookDeadLetterQueueUrl", deliveries.dead_letters.queue_url,
             "Webhook deliveries given up after 24 h (docs/operations.md)"),
        ):
            CfnOutput(self, name, value=value, description=description)
