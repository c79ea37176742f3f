"""Data: the single records table, Powertools' idempotency table and the cursor-signing secret.

Both tables are built from `ledgerline.store.schema`, the same definition the local stack and
the tests use, so keys, indexes, stream view and TTL attribute cannot drift from the code.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import nag
from ledgerline.store import schema

TENANT_KEY_PREFIX = "T#"  # the partition keys of partner data (never API keys, due queue or sweep state)


def keys_starting(prefix: str, actions: tuple[str, ...] | list[str], table: dynamodb.ITable, *,
                  indexes: bool = False) -> iam.PolicyStatement:
    """`actions` on the items of `table` (and, with `indexes`, its index entries) whose partition
    key starts with `prefix`: how a function is kept to the part of the one table it serves."""
    return iam.PolicyStatement(
        actions=list(actions),
        resources=[table.table_arn, *([f"{table.table_arn}/index/*"] if indexes else [])],
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{prefix}*"]}},
    )


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Storage(Construct):
    """Records table (with its change stream), idempotency table, cursor-signing secret."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.records = dynamodb.Table(
            self,
            "Records",
            partition_key=_string_key(schema.PK),
            sort_key=_string_key(schema.SK),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            # The table is the system of record: never delete it with the stack.
            removal_policy=RemovalPolicy.RETAIN,
            # The worker (added with its own construct) consumes this stream.
            stream=dynamodb.StreamViewType[schema.STREAM_VIEW],
        )
        for index in schema.INDEXES:
            self.records.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string_key(index.partition_key),
                sort_key=_string_key(index.sort_key),
                projection_type=dynamodb.ProjectionType[index.projection],
            )

        # Powertools' persistence layer: one item per (tenant, Idempotency-Key), expired by
        # DynamoDB TTL. Kept apart from the records table so its writes stay out of the stream.
        self.idempotency = dynamodb.Table(
            self,
            "Idempotency",
            partition_key=_string_key(schema.IDEMPOTENCY_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=schema.IDEMPOTENCY_TTL_ATTRIBUTE,
            # Its content is worthless after 24 h; a replacement table loses nothing durable
            # because the records table keeps its own ingested_events guard rows.
            removal_policy=RemovalPolicy.DESTROY,
        )
        nag.acknowledge(
            self.idempotency,
            "AwsSolutions-DDB3",
            "Holds only short-lived Powertools idempotency records that DynamoDB TTL expires after "
            "24 hours; restoring an older copy would have no use. The records table has PITR.",
        )

        # HMAC key for the read API's opaque, tamper-proof pagination cursors.
        self.cursor_secret = secretsmanager.Secret(
            self,
            "CursorSigningKey",
            description="Ledgerline: key that signs read-API pagination cursors",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        # The key each webhook's signing secret is derived from (ledgerline.domain.webhooks): no
        # secret is stored per webhook.
        self.webhook_key = secretsmanager.Secret(
            self,
            "WebhookSigningKey",
            description="Ledgerline: key webhook signing secrets are derived from",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        nag.acknowledge(
            self.webhook_key,
            "AwsSolutions-SMG4",
            "Every webhook's signing secret is derived from this key, so rotating it changes every "
            "partner's secret at once; it is rotated by an operator on purpose (docs/operations.md).",
        )
        nag.acknowledge(
            self.cursor_secret,
            "AwsSolutions-SMG4",
            "Rotating the cursor-signing key invalidates every pagination cursor in flight, so it is "
            "rotated by an operator on purpose (docs/operations.md), not on a schedule.",
        )

