"""Moving a stage written before GSI4 (tools/keys_only_index.py): its large records, listed by
table through GSI1 then, are listed through the keys-only GSI4 afterwards, once each."""

from __future__ import annotations

from decimal import Decimal

from ledgerline.settings import get_settings
from tests.builders import client, ingest, loan, payment
from tools import keys_only_index

LARGE = ("statements", "outgoing_events")


def listed(call_tables, table: str) -> list[dict]:
    status, _, page = call_tables(f"/api/tables/{table}", query={"limit": "500"})
    assert status == 200, page
    return page["items"]


def test_large_records_of_an_older_stage_are_listed_again_after_the_move(call_ingest, stream_pump, call_tables,
                                                                          tables):
    ingest(call_ingest, client())
    ingest(call_ingest, loan())
    ingest(call_ingest, payment("PM1", due_date="2099-01-12", installment_number=1, amount=Decimal("850.25")))
    stream_pump.drain()
    table = get_settings().records_table
    before = {name: listed(call_tables, name) for name in LARGE}
    assert all(before.values())
    # as a stage deployed before GSI4 holds them: by-table keys on GSI1
    for item in tables.scan(TableName=table)["Items"]:
        if item["SK"]["S"] == "v0" and item.get("table", {}).get("S") in LARGE:
            tables.update_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]},
                               UpdateExpression="SET GSI1PK = :pk, GSI1SK = :sk REMOVE GSI4PK, GSI4SK",
                               ExpressionAttributeValues={":pk": item["GSI4PK"], ":sk": item["GSI4SK"]})
    assert all(listed(call_tables, name) == [] for name in LARGE)

    moved = keys_only_index.move(tables, table)

    assert moved == sum(len(records) for records in before.values())
    assert {name: listed(call_tables, name) for name in LARGE} == before
    assert not any("GSI1PK" in item for item in tables.scan(TableName=table)["Items"]
                   if item["SK"]["S"] == "v0" and item.get("table", {}).get("S") in LARGE)
    assert keys_only_index.move(tables, table) == 0  # nothing left to move
