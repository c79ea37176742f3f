"""The client registry's movements, one item per client version, by valid day (client analytics).

| item | PK | SK | holds |
| --- | --- | --- | --- |
| client movement | `T#{tenant}#CM` | `{valid_day}#{client_id}#{version:010d}` | the movement (`domain.reports.client_movement`), its `system_from` |

Written once by the worker (a conditional put on its key: a redelivery is a no-op). The report
reads the movements valid within its period, in timeline order (one `Query`, paged), and drops
those stored after its `known_at`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from ledgerline import aws
from ledgerline.settings import get_settings
from ledgerline.store.records import from_attributes, put_once, to_attributes
from ledgerline.store.schema import PK, SK

_HIGH = "~"  # sorts after every character of an id


def movements_pk(tenant: str) -> str:
    return f"T#{tenant}#CM"


def movement_item(tenant: str, movement: dict[str, Any], version: int, system_from: str) -> dict[str, Any]:
    return to_attributes({PK: movements_pk(tenant), SK: f"{movement['date']}#{movement['client_id']}#{version:010d}",
                          "movement": movement, "system_from": system_from})


def record(tenant: str, movement: dict[str, Any], version: int, system_from: str) -> bool:
    """Write one version's movement once; False when it was there already."""
    return put_once({"Put": {"TableName": get_settings().records_table,
                             "Item": movement_item(tenant, movement, version, system_from),
                             "ConditionExpression": "attribute_not_exists(PK)"}})


def movements(tenant: str, first: date, last: date, known_at: str) -> Iterator[dict[str, Any]]:
    """The movements valid within [first, last] whose version was stored by `known_at`, in date,
    client and version order."""
    request: dict[str, Any] = {
        "TableName": get_settings().records_table,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
        "FilterExpression": "#system <= :known",
        "ExpressionAttributeNames": {"#pk": PK, "#sk": SK, "#system": "system_from"},
        "ExpressionAttributeValues": {":pk": {"S": movements_pk(tenant)}, ":low": {"S": first.isoformat()},
                                      ":high": {"S": f"{last.isoformat()}#{_HIGH}"}, ":known": {"S": known_at}},
        "ConsistentRead": True,
    }
    client = aws.dynamodb()
    while True:
        page = client.query(**request)
        for item in page.get("Items", []):
            yield from_attributes(item)["movement"]
        if not page.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
