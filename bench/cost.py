"""Cost per million events at list prices, from measured calls and item sizes.

Runs each ingest scenario once over moto, then sizes every item it wrote with DynamoDB's
item-size rules and prices the request units, index writes, Lambda and API Gateway. Prices
are on-demand list prices (us-east-1) written below; change them for another region.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import bench.common  # noqa: F401  (sets sys.path and the environment)

# List prices, USD (us-east-1, on-demand).
PRICE_WRU = 0.625 / 1e6
PRICE_RRU = 0.125 / 1e6
PRICE_API_REQUEST = 3.50 / 1e6  # REST API, first 333 million per month
PRICE_LAMBDA_REQUEST = 0.20 / 1e6
PRICE_LAMBDA_GB_SECOND = 0.0000133334  # arm64
PRICE_LOG_GB = 0.50  # CloudWatch Logs ingestion
INGEST_MEMORY_GB = 1.0  # infra/stack.py: ingest function memory 1024 MB
ASSUMED_INGEST_SECONDS = 0.06  # warm ingest duration on AWS: four DynamoDB round trips of ~10-15 ms
LOG_BYTES_PER_EVENT = 1500  # JSON start/end/report lines of one invocation, measured locally


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (names counted by the caller)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        digits = len(str(Decimal(inner)).replace("-", "").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in inner)
    return len(str(inner))


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def units(size: int, block: int) -> int:
    return max(1, math.ceil(size / block))


def main() -> None:
    from moto import mock_aws

    import functions.ingest.handler as ingest_handler
    from ledgerline import aws
    from ledgerline.api import ingest_routes
    from ledgerline.settings import get_settings
    from ledgerline.store.schema import INDEXES, create_tables
    from tests.builders import FakeLambdaContext, api_event, client, loan, payment

    scenarios = {
        "client create": (client("C9"), False),
        "loan create (1 client)": (loan("D9"), False),
        "payment create": (payment("P9", installment_number=9), False),
        "disbursement update": (loan(step="update", bank_ref="R-1"), True),
    }
    print("| event | WRU (transaction + index + idempotency) | RRU | DynamoDB $ per million |")
    print("| --- | --- | --- | --- |")
    dynamo_costs = []
    for name, (body, is_update) in scenarios.items():
        with mock_aws():
            aws.reset()
            ingest_routes._idempotent_ingest.cache_clear()
            settings = get_settings()
            create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)
            client_api = aws.dynamodb()

            def send(event_body: dict[str, Any], key: str) -> None:
                event = api_event("POST", "/ingest", body=event_body, headers={"Idempotency-Key": key})
                assert ingest_handler.handler(event, FakeLambdaContext())["statusCode"] == 200

            send(client(), "seed-client")
            send(loan(), "seed-loan")
            before = {(i["PK"]["S"], i["SK"]["S"]): i for i in client_api.scan(TableName=settings.records_table)["Items"]}
            send(body, "measured")
            after = {(i["PK"]["S"], i["SK"]["S"]): i for i in client_api.scan(TableName=settings.records_table)["Items"]}
            idempotency = client_api.scan(TableName=settings.idempotency_table)["Items"]
        written = {key: item for key, item in after.items() if before.get(key) != item}
        transact_wru = sum(2 * units(item_size(item), 1024) for item in written.values())
        index_wru = 0
        for key, item in written.items():
            for index in INDEXES:
                if index.partition_key in item:
                    moved = key in before and before[key].get(index.sort_key) != item.get(index.sort_key)
                    index_wru += units(item_size(item), 1024) * (2 if moved else 1)
        idem_item = max(item_size(i) for i in idempotency)
        idem_wru = 2 * units(idem_item, 1024)  # conditional put (in progress) + update (completed)
        reads = 2 + (1 if body["category"] != "client" else 0)  # event row, target, parent (4 KB each)
        wru = transact_wru + index_wru + idem_wru
        dollars = wru * PRICE_WRU * 1e6 + reads * PRICE_RRU * 1e6
        dynamo_costs.append(dollars)
        print(f"| {name}{' (a record with 2 versions)' if is_update else ''} | {wru} ({transact_wru} + "
              f"{index_wru} + {idem_wru}) | {reads} | {dollars:.2f} |")
    lambda_cost = (PRICE_LAMBDA_REQUEST + INGEST_MEMORY_GB * ASSUMED_INGEST_SECONDS * PRICE_LAMBDA_GB_SECOND) * 1e6
    api_cost = PRICE_API_REQUEST * 1e6
    logs_cost = LOG_BYTES_PER_EVENT * 1e6 / 1e9 * PRICE_LOG_GB
    average = sum(dynamo_costs) / len(dynamo_costs)
    print()
    print("| per million events | USD |")
    print("| --- | --- |")
    print(f"| DynamoDB (average of the events above) | {average:.2f} |")
    print(f"| API Gateway REST requests | {api_cost:.2f} |")
    print(f"| Lambda ingest (1024 MB arm64, {ASSUMED_INGEST_SECONDS * 1000:.0f} ms assumed) | {lambda_cost:.2f} |")
    print(f"| CloudWatch Logs ingestion (~{LOG_BYTES_PER_EVENT} B per event) | {logs_cost:.2f} |")
    print(f"| total | {average + api_cost + lambda_cost + logs_cost:.2f} |")


if __name__ == "__main__":
    main()
