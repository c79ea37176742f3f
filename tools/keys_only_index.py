"""Once per stage deployed before GSI4 (and again for a table that became large since): move the
by-table index keys of large records (statements, outgoing events, ingested events) from GSI1 to
the keys-only GSI4 (docs/operations.md, "Cost").

    python -m tools.keys_only_index --table <RecordsTableName> [--endpoint-url URL]

Run it after the deployment that adds GSI4 has finished (the index is ACTIVE). Every current
item of a large-record table that still carries GSI1 keys gets the same values as GSI4 keys and
loses the GSI1 ones, in one UpdateItem conditional on the GSI1 keys being unchanged: an item the
worker rewrote meanwhile already has its GSI4 keys and is left alone. A second run finds nothing
to move. It scans the whole table once: run it off-peak.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ledgerline import settings as env
from ledgerline.domain.tables import TABLES
from ledgerline.store.schema import CURRENT_SK, LIST_BY_TABLE, LIST_BY_TABLE_KEYS

LARGE = sorted(name for name, table in TABLES.items() if table.large_items)


def move(client: Any, table_name: str) -> int:
    """Move the GSI1 keys of every current large record to GSI4; returns how many moved."""
    old_pk, old_sk = LIST_BY_TABLE.partition_key, LIST_BY_TABLE.sort_key
    scan = {
        "TableName": table_name,
        "FilterExpression": f"#sk = :current AND #table IN ({', '.join(f':t{i}' for i in range(len(LARGE)))}) "
                            "AND attribute_exists(#old_pk)",
        "ExpressionAttributeNames": {"#sk": "SK", "#table": "table", "#old_pk": old_pk},
        "ExpressionAttributeValues": {":current": {"S": CURRENT_SK},
                                      **{f":t{i}": {"S": name} for i, name in enumerate(LARGE)}},
    }
    moved = 0
    for page in client.get_paginator("scan").paginate(**scan):
        for item in page["Items"]:
            try:
                client.update_item(
                    TableName=table_name, Key={"PK": item["PK"], "SK": item["SK"]},
                    UpdateExpression="SET #new_pk = :pk, #new_sk = :sk REMOVE #old_pk, #old_sk",
                    ConditionExpression="#old_pk = :pk AND #old_sk = :sk",
                    ExpressionAttributeNames={"#new_pk": LIST_BY_TABLE_KEYS.partition_key,
                                              "#new_sk": LIST_BY_TABLE_KEYS.sort_key,
                                              "#old_pk": old_pk, "#old_sk": old_sk},
                    ExpressionAttributeValues={":pk": item[old_pk], ":sk": item[old_sk]},
                )
                moved += 1
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
    return moved


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=os.environ.get(env.TABLE),
                        help=f"the records table (default ${env.TABLE})")
    parser.add_argument("--endpoint-url", help="a DynamoDB endpoint other than AWS (the local stack's moto server)")
    arguments = parser.parse_args(argv)
    if not arguments.table:
        parser.error(f"--table or ${env.TABLE} is required")
    client = boto3.client("dynamodb", endpoint_url=arguments.endpoint_url)
    print(f"moved {move(client, arguments.table)} large records to {LIST_BY_TABLE_KEYS.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
