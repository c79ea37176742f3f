"""How an item holds its record: the map itself, or compressed JSON for tables of large records
(`large_items`), restored by `from_attributes` from a read or from a stream record."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerline.domain.tables import TABLES
from ledgerline.store.records import from_attributes, stored_record, to_attributes

LARGE = sorted(name for name, table in TABLES.items() if table.large_items)
money = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2)
scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | money | st.text(max_size=30)
records = st.dictionaries(st.text(min_size=1, max_size=12), st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), inner,
                                                                       max_size=4), max_leaves=20), max_size=8)


def test_statements_and_event_rows_are_the_large_tables():
    # an ingested event's row holds the request it answers, whose `info` may reach 16 KiB
    assert LARGE == ["ingested_events", "outgoing_events", "statements"]


@given(record=records)
def test_a_large_record_is_stored_compressed_and_read_back_equal(record: dict[str, Any]):
    for table in LARGE:
        item = to_attributes({"table": table, "record": stored_record(table, record)})
        assert set(item["record"]) == {"B"}
        assert from_attributes(item)["record"] == record
        # a stream record delivered to Lambda holds the same bytes in base64
        streamed = {**item, "record": {"B": base64.b64encode(item["record"]["B"]).decode("ascii")}}
        assert from_attributes(streamed)["record"] == record


def test_other_records_stay_maps_that_expressions_can_name():
    record = {"client_id": "C1", "deleted": False, "amount": Decimal("850.25")}
    item = to_attributes({"record": stored_record("clients", record)})
    assert set(item["record"]) == {"M"} and from_attributes(item)["record"] == record


def test_a_statement_of_six_cycles_fits_one_write_unit():
    cycles = [{"statement_id": f"D1~2025-0{n}-12", "cycle": n, "due_date": f"2025-0{n}-12",
               "real_due_date": f"2025-0{n}-13", "previous_balance": Decimal("1800") * (n - 1),
               "debits": Decimal("1800"), "credits": Decimal(0), "current_balance": Decimal("1800") * n,
               "payment_ids": [f"D1-P{n}"]} for n in range(1, 7)]
    record = {"disbursement_id": "D1", "currency": "EUR", "collection_status": "NORMAL", "statements": cycles}
    plain = len(str(to_attributes({"record": record})))
    assert len(stored_record("statements", record)) < 1024 < plain


def test_stored_bytes_that_are_not_compressed_json_are_refused_as_unreadable():
    with pytest.raises(ValueError, match="not compressed JSON"):
        from_attributes({"record": {"B": b"plain bytes"}})
