"""The registry of tables is the one list: the read API, the indexes, the stream filter, the
worker's dispatch and the OpenAPI document all follow it."""

from __future__ import annotations

import pytest

from ledgerline.api.openapi import document
from ledgerline.domain.derive import ROWS_OF_CHANGE
from ledgerline.domain.tables import PUBLISHED, READABLE, TABLES, WORKER_INPUTS, Filter, Kind
from ledgerline.store.keys import index_keys
from ledgerline.store.schema import STREAM_FILTERS, indexes_of


def test_readable_tables_are_every_table_but_the_internal_ones():
    assert set(READABLE) == {name for name, table in TABLES.items() if table.kind is not Kind.INTERNAL}
    assert READABLE and all(TABLES[name].readable for name in READABLE)


@pytest.mark.parametrize("name", READABLE)
def test_a_record_is_listed_on_the_indexes_of_its_filters(name):
    table = TABLES[name]
    record = {filter_.value: "X1" for filter_ in table.filters}
    written = index_keys("t1", name, "R1", record, "2025-01-01T00:00:00.000000Z")
    assert {index.partition_key for index in indexes_of(name)} == {k for k in written if k.endswith("PK")}


@pytest.mark.parametrize("name", READABLE)
def test_a_record_carries_no_key_of_an_index_it_is_not_listed_on(name):
    """An index copy costs a write unit and storage: only the indexes that list a table get one."""
    record = {"disbursement_id": "D1", "client_id": "C1"}
    written = index_keys("t1", name, "R1", record, "2025-01-01T00:00:00.000000Z")
    assert {k for k in written if k.endswith("PK")} == {index.partition_key for index in indexes_of(name)}


def test_rows_that_never_change_are_one_item():
    assert all(TABLES[name].immutable for name, table in TABLES.items() if not table.version_items and table.readable)
    assert not TABLES["statements"].immutable and TABLES["statements"].version_items
    for name in ("disbursement_status", "extensions", "rebates", "write_offs", "asset_status", "outgoing_events",
                 "ingested_events"):
        assert not TABLES[name].version_items, name


def test_the_stream_publishes_new_rows_of_the_published_tables_only():
    assert PUBLISHED == ("outgoing_events",)
    [outbox] = [pattern for pattern in STREAM_FILTERS if pattern.get("eventName")]
    assert outbox["eventName"] == ["INSERT"]
    assert outbox["dynamodb"]["NewImage"]["table"]["S"] == list(PUBLISHED)


def test_internal_tables_are_on_no_index():
    assert all(indexes_of(name) == () for name, table in TABLES.items() if table.kind is Kind.INTERNAL)


def test_the_stream_filter_and_the_dispatch_take_the_worker_inputs_from_the_registry():
    assert STREAM_FILTERS[0]["dynamodb"]["NewImage"]["table"]["S"] == list(WORKER_INPUTS)
    assert set(ROWS_OF_CHANGE) == set(WORKER_INPUTS)
    assert all(TABLES[name].kind is Kind.SOURCE for name in WORKER_INPUTS)


def test_the_openapi_document_enumerates_the_readable_tables():
    for path, item in document()["paths"].items():
        if "{table}" in path:
            [table] = [p for p in item["get"]["parameters"] if p["name"] == "table"]
            assert table["schema"]["enum"] == list(READABLE), path


def test_list_filters_are_filter_names():
    assert {f.value for f in Filter} == {"disbursement_id", "client_id"}
    assert all(table.filters <= set(Filter) for table in TABLES.values())
