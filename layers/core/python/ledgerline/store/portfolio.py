"""The portfolio's facts: one item per disbursement holding what the portfolio report needs of it.

| item | PK | SK | holds |
| --- | --- | --- | --- |
| portfolio facts | `T#{tenant}#PF#{currency}#{shard}` | `{disbursement_id}` | one attribute per fact (`domain.reports.version_facts`, `receivable_facts`): each stamped with its system time |

A fact's attribute name holds the version (or journal change) that stated it and its value never
changes, so writing it is a `SET` that a redelivery repeats harmlessly, in any order. The
receivable facts are set in the journal's transaction (`store.journal.write`), so they are exactly
the lines written once. A report reads the tenant's facts of one currency: one `Query` per shard,
one item per disbursement, however many payments and corrections each has had.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from ledgerline import aws
from ledgerline.settings import get_settings
from ledgerline.store.records import from_attributes, to_attributes
from ledgerline.store.schema import PK, SK

FACT_SHARDS = 4


def facts_pk(tenant: str, currency: str, shard: int) -> str:
    return f"T#{tenant}#PF#{currency}#{shard}"


def facts_key(tenant: str, currency: str, disbursement_id: str) -> dict[str, dict[str, str]]:
    """Spread over FACT_SHARDS partitions by a hash of the disbursement, so a large book's writes
    do not all land on one partition key."""
    shard = int(hashlib.sha256(f"{tenant}\n{disbursement_id}".encode()).hexdigest()[:8], 16) % FACT_SHARDS
    return {PK: {"S": facts_pk(tenant, currency, shard)}, SK: {"S": disbursement_id}}


def set_facts(tenant: str, currency: str, disbursement_id: str, facts: dict[str, Any]) -> dict[str, Any]:
    """The `Update` setting these facts on the disbursement's item (created on first use)."""
    names = {f"#f{i}": name for i, name in enumerate(facts)}
    values = to_attributes({f":f{i}": value for i, value in enumerate(facts.values())})
    return {"Update": {
        "TableName": get_settings().records_table,
        "Key": facts_key(tenant, currency, disbursement_id),
        "UpdateExpression": "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(facts))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }}


def record(tenant: str, currency: str, disbursement_id: str, facts: dict[str, Any]) -> None:
    """Set facts outside any transaction (a version's facts: nothing else must change with them)."""
    if facts:
        aws.dynamodb().update_item(**set_facts(tenant, currency, disbursement_id, facts)["Update"])


def all_facts(tenant: str, currency: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(disbursement id, its facts) for every disbursement of the tenant in the currency."""
    client = aws.dynamodb()
    for shard in range(FACT_SHARDS):
        request: dict[str, Any] = {
            "TableName": get_settings().records_table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": PK},
            "ExpressionAttributeValues": {":pk": {"S": facts_pk(tenant, currency, shard)}},
            "ConsistentRead": True,
        }
        while True:
            page = client.query(**request)
            for item in page.get("Items", []):
                values = from_attributes(item)
                disbursement_id = values.pop(SK)
                values.pop(PK)
                yield disbursement_id, values
            if not page.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
