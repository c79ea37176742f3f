"""The one definition of Ledgerline's tables: keys, indexes, stream, TTL.

The CDK stack, the local stack and the tests all build their tables from here, so the
key layout cannot drift between them. Pure data: importing this module touches no AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgerline.domain.tables import CURRENT_SK, PUBLISHED, TABLES, WORKER_INPUTS, Filter

PK = "PK"
SK = "SK"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str
    purpose: str
    lists_by: str  # what one partition holds: a table (TABLE), one disbursement's records (OWNER), one client's (CLIENT)
    keys_only: bool = False  # projects the keys only: a list reads the page's items by key

    @property
    def projection(self) -> str:
        return "KEYS_ONLY" if self.keys_only else "ALL"


TABLE, OWNER, CLIENT = "table", "owner", "client"
# Only current items (SK = v0) of readable tables carry these attributes, so version
# items, keys and guards never appear in an index.
LIST_BY_TABLE = Index("GSI1", "GSI1PK", "GSI1SK", "T#{tenant}#{table} / {updated_at}#{id}: list a table by updated_at",
                      TABLE)
BY_DISBURSEMENT = Index("GSI2", "GSI2PK", "GSI2SK", "T#{tenant}#D#{disbursement_id} / {table}#{updated_at}#{id}: a disbursement's records",
                        OWNER)
BY_CLIENT = Index("GSI3", "GSI3PK", "GSI3SK", "T#{tenant}#C#{client_id} / {table}#{updated_at}#{id}: a client's records",
                  CLIENT)
# GSI1 again, keys only, for the tables of large records (`large_items` in the registry:
# statements, outgoing events, ingested events): their items come near or above 1 KB (an
# ingested event's row holds the request, `info` included) and a statement's sort key moves with
# every update, so a copy of the whole item costs a write unit per KB (twice when it moves); a
# copy of the keys costs one. A page then reads its items by key.
LIST_BY_TABLE_KEYS = Index("GSI4", "GSI4PK", "GSI4SK", "as GSI1, keys only: a table of large records by updated_at",
                           TABLE, keys_only=True)
INDEXES = (LIST_BY_TABLE, BY_DISBURSEMENT, BY_CLIENT, LIST_BY_TABLE_KEYS)
# Every readable table is listed on LIST_BY_TABLE (or its keys-only twin); each list filter has
# an index of its own.
INDEX_OF_FILTER = {Filter.DISBURSEMENT: BY_DISBURSEMENT, Filter.CLIENT: BY_CLIENT}


def indexes_of(table: str) -> tuple[Index, ...]:
    """The indexes a readable table's current items are listed on.

    A filter on the table's own id field (`disbursement_id` on disbursements and statements,
    `client_id` on clients) names one record, read by its key (`store.reads.list_records`): no
    index copy is written for it. A table of large records (`large_items`) is listed by table on
    the keys-only LIST_BY_TABLE_KEYS instead of LIST_BY_TABLE."""
    entry = TABLES[table]
    if not entry.readable:
        return ()
    by_table = LIST_BY_TABLE_KEYS if entry.large_items else LIST_BY_TABLE
    return (by_table, *(INDEX_OF_FILTER[f] for f in Filter if f in entry.filters and f != entry.id_field))


STREAM_VIEW = "NEW_AND_OLD_IMAGES"

# The stream worker's input: Lambda event-filter patterns (ORed), the one definition used by
# the CDK event source mapping (FilterCriteria) and by the local stack's stream pump. Only
# equality, which both evaluate the same way.
#   - current items (v0) of the tables that feed the worker (`feeds_worker` in the registry):
#     every change of a disbursement, payment or operation. Derived rows (statements,
#     disbursement_status, ...) are v0 items of other tables and version items are not v0, so
#     the worker's own writes never reach it here.
#   - the INSERT of an outgoing_events row (`published` in the registry): the stream is the
#     outbox. The row is written once, with what it announces; its INSERT record is delivered
#     at least once, and the worker publishes the event from it.
STREAM_BATCH_SIZE = 100  # records per worker invocation
STREAM_RETRY_ATTEMPTS = 4  # redeliveries of a failing record before the on-failure destination
STREAM_FILTERS: tuple[dict[str, Any], ...] = (
    {"dynamodb": {"Keys": {SK: {"S": [CURRENT_SK]}}, "NewImage": {"table": {"S": list(WORKER_INPUTS)}}}},
    {"eventName": ["INSERT"],
     "dynamodb": {"Keys": {SK: {"S": [CURRENT_SK]}}, "NewImage": {"table": {"S": list(PUBLISHED)}}}},
)

# Powertools' DynamoDBPersistenceLayer default attribute names.
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"


def records_table_definition(table_name: str) -> dict[str, Any]:
    """`CreateTable` arguments for the records table (on-demand, stream on)."""
    attributes = {PK, SK} | {a for index in INDEXES for a in (index.partition_key, index.sort_key)}
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}, {"AttributeName": SK, "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": index.projection},
            }
            for index in INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW},
    }


def idempotency_table_definition(table_name: str) -> dict[str, Any]:
    """`CreateTable` arguments for Powertools' idempotency table."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": IDEMPOTENCY_KEY, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": IDEMPOTENCY_KEY, "KeyType": "HASH"}],
    }


def create_tables(client: Any, records_table: str, idempotency_table: str) -> None:
    """Create both tables with a boto3 DynamoDB client (moto or a local endpoint)."""
    client.create_table(**records_table_definition(records_table))
    client.create_table(**idempotency_table_definition(idempotency_table))
    client.update_time_to_live(
        TableName=idempotency_table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": IDEMPOTENCY_TTL_ATTRIBUTE},
    )
