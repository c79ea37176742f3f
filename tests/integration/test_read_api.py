"""The read API over moto: pages, filters, incremental sync, history, as-of, changes, isolation."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ledgerline.domain.tables import READABLE
from ledgerline.store import reads
from tests.builders import client, loan, payment


def page_through(call_tables, path: str, tenant: str = "t1", **query: str) -> list[dict]:
    items, cursor = [], None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        status, _, body = call_tables(path, tenant=tenant, query=params)
        assert status == 200, body
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


def test_the_readable_tables_are_listed(call_tables):
    status, _, body = call_tables("/api/tables")
    assert status == 200 and body["tables"] == list(READABLE) and len(body["tables"]) == len(READABLE)


def test_paging_returns_every_record_exactly_once_in_update_order(call_ingest, call_tables):
    for i in range(23):
        call_ingest(client(f"C{i:02d}"))
    call_ingest(client("C05", step="update", country="FR"))  # moves to the end

    items = page_through(call_tables, "/api/tables/clients", limit="5")

    assert sorted(i["client_id"] for i in items) == [f"C{i:02d}" for i in range(23)]
    assert items[-1]["client_id"] == "C05" and items[-1]["version"] == 2
    keys = [(i["updated_at"], i["client_id"]) for i in items]
    assert keys == sorted(keys)


def test_a_disbursement_filter_pages_through_only_its_records(call_ingest, call_tables):
    call_ingest(client())
    call_ingest(loan("D1"))
    call_ingest(loan("D2"))
    for i in range(12):
        call_ingest(payment(f"PA{i:02d}", installment_number=i + 1, disbursement_id="D1"))
    for i in range(3):
        call_ingest(payment(f"PB{i:02d}", installment_number=i + 1, disbursement_id="D2"))

    items = page_through(call_tables, "/api/tables/payments", limit="5", disbursement_id="D1")

    assert sorted(i["payment_id"] for i in items) == [f"PA{i:02d}" for i in range(12)]


def test_a_filter_on_a_tables_own_id_reads_that_record_by_key_without_an_index(call_ingest, call_tables, tables):
    """disbursement_id on disbursements (and statements), client_id on clients, name one record:
    it is read by its key, so those items carry no copy on that index."""
    call_ingest(client("C1"))
    call_ingest(client("C2"))
    call_ingest(loan("D1", client_id="C1"))
    call_ingest(loan("D2", client_id="C2"))
    assert [i["disbursement_id"] for i in page_through(call_tables, "/api/tables/disbursements",
                                                       disbursement_id="D2")] == ["D2"]
    assert page_through(call_tables, "/api/tables/disbursements", disbursement_id="D2", client_id="C1") == []
    assert [i["disbursement_id"] for i in page_through(call_tables, "/api/tables/disbursements",
                                                       disbursement_id="D1", client_id="C1")] == ["D1"]
    assert [i["client_id"] for i in page_through(call_tables, "/api/tables/clients", client_id="C1")] == ["C1"]
    assert page_through(call_tables, "/api/tables/clients", client_id="C9") == []
    later = page_through(call_tables, "/api/tables/clients", client_id="C1", updated_since="2999-01-01")
    assert later == []
    stored = {(i["PK"]["S"], i["SK"]["S"]): i for i in tables.scan(TableName="ledgerline-records-test")["Items"]}
    assert "GSI2PK" not in stored[("T#t1#disbursements#D2", "v0")] and "GSI3PK" in stored[("T#t1#disbursements#D2", "v0")]
    assert "GSI3PK" not in stored[("T#t1#clients#C1", "v0")] and "GSI1PK" in stored[("T#t1#clients#C1", "v0")]


def test_a_client_filter_lists_the_clients_disbursements(call_ingest, call_tables):
    call_ingest(client("C1"))
    call_ingest(client("C2"))
    call_ingest(loan("D1", client_id="C1"))
    call_ingest(loan("D2", client_id="C2"))
    items = page_through(call_tables, "/api/tables/disbursements", client_id="C2")
    assert [i["disbursement_id"] for i in items] == ["D2"]


def test_updated_since_gives_an_incremental_sync(call_ingest, call_tables):
    for i in range(4):
        call_ingest(client(f"C{i}"))
    first_sync = page_through(call_tables, "/api/tables/clients")
    watermark = first_sync[-1]["updated_at"]
    call_ingest(client("C1", step="update", name="Renamed"))
    call_ingest(client("C9"))

    second_sync = page_through(call_tables, "/api/tables/clients", updated_since=watermark)

    # At least once: the record at the watermark comes again, then only what changed after it.
    assert [i["client_id"] for i in second_sync] == [first_sync[-1]["client_id"], "C1", "C9"]


def test_history_as_of_and_changes_follow_a_retroactive_correction(call_ingest, call_tables):
    call_ingest(client())
    assert call_ingest({**loan(), "effective_at": "2024-01-01"})[0] == 200
    assert call_ingest({**loan(step="update", bank_ref="B-1"), "effective_at": "2024-03-01"})[0] == 200
    _, _, current = call_tables("/api/tables/disbursements/D1")
    before_correction = current["item"]["updated_at"]
    # Sent later, effective earlier: a correction of what was true in February.
    assert call_ingest({**loan(step="update", pledge_creditor="Bank P"), "effective_at": "2024-02-01"})[0] == 200

    status, _, history = call_tables("/api/tables/disbursements/D1/history")
    assert status == 200 and history["total_versions"] == 3
    v3, v2, v1 = history["history"]
    assert [v3["version"], v2["version"], v1["version"]] == [3, 2, 1]
    assert v1["valid_to"] == "2024-02-01T00:00:00Z" and v3["valid_to"] == "2024-03-01T00:00:00Z"
    assert v2["valid_to"] == "9999-12-31T23:59:59Z"
    assert v1["system_to"] == v2["system_from"] and v2["system_to"] == v3["system_from"]
    assert v3["changes"] == ["pledge_creditor"] and v3["previous_version"] == 2

    def as_of(date: str, known_at: str | None = None) -> tuple[int, dict]:
        query = {"known_at": known_at} if known_at else None
        status, _, body = call_tables(f"/api/tables/disbursements/D1/as-of/{date}", query=query)
        return status, body

    status, feb_then = as_of("2024-02-15", before_correction)
    assert status == 200 and feb_then["version"] == 1 and "pledge_creditor" not in feb_then["record"]
    status, feb_now = as_of("2024-02-15")
    assert feb_now["record"]["pledge_creditor"] == "Bank P" and "bank_ref" not in feb_now["record"]
    assert feb_now["valid_from"] == "2024-02-01" and feb_now["valid_to"] == "2024-03-01T00:00:00Z"
    status, march = as_of("2024-03-15")
    assert march["record"]["bank_ref"] == "B-1" and march["record"]["pledge_creditor"] == "Bank P"
    assert march["record"]["disbursement_amount"] == Decimal(10000)
    assert as_of("2023-12-31")[0] == 404
    assert as_of("2024-03-15", "2000-01-01")[0] == 404  # not yet known then

    status, _, changes = call_tables("/api/tables/disbursements/D1/changes",
                                     query={"from": v2["system_from"]})
    assert [c["version"] for c in changes["changes"]] == [2, 3]
    assert changes["changes"][0]["changes"] == {"bank_ref": {"old": None, "new": "B-1"}}


@pytest.mark.parametrize("suffix", ["", "/history", "/as-of/2030-01-01", "/changes"])
def test_another_tenant_gets_404_on_every_record_route(call_ingest, call_tables, suffix):
    call_ingest(client())
    assert call_tables(f"/api/tables/clients/C1{suffix}")[0] == 200
    status, _, problem = call_tables(f"/api/tables/clients/C1{suffix}", tenant="t2")
    assert status == 404 and problem["type"].endswith("/problems/not-found")


def test_another_tenant_never_lists_the_records_and_cannot_use_the_cursor(call_ingest, call_tables):
    for i in range(3):
        call_ingest(client(f"C{i}"))
    _, _, page = call_tables("/api/tables/clients", query={"limit": "1"})
    assert page["next_cursor"]
    assert call_tables("/api/tables/clients", tenant="t2")[2]["items"] == []

    status, _, problem = call_tables("/api/tables/clients", tenant="t2",
                                     query={"limit": "1", "cursor": page["next_cursor"]})
    assert status == 400 and problem["errors"][0]["code"] == "invalid-cursor"


def test_an_edited_or_reused_cursor_is_refused(call_ingest, call_tables):
    for i in range(3):
        call_ingest(client(f"C{i}"))
    _, _, page = call_tables("/api/tables/clients", query={"limit": "1"})
    payload, signature = page["next_cursor"].split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    assert call_tables("/api/tables/clients", query={"cursor": forged})[0] == 400
    # The same cursor on another table or with other filters is another query.
    assert call_tables("/api/tables/payments", query={"cursor": page["next_cursor"]})[0] == 400
    assert call_tables("/api/tables/clients", query={"cursor": page["next_cursor"],
                                                     "updated_since": "2020-01-01"})[0] == 400


def test_page_size_is_capped_at_500(call_tables, monkeypatch):
    seen = {}
    real = reads.list_records

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(reads, "list_records", spy)
    assert call_tables("/api/tables/clients", query={"limit": "100000"})[0] == 200
    assert seen["limit"] == 500


@pytest.mark.parametrize("path, query, field", [
    ("/api/tables/clients", {"limit": "0"}, "limit"),
    ("/api/tables/clients", {"limit": "ten"}, "limit"),
    ("/api/tables/clients", {"updated_since": "yesterday"}, "updated_since"),
    ("/api/tables/clients", {"disbursement_id": "D1"}, "disbursement_id"),
    ("/api/tables/ingested_events", {"client_id": "C1"}, "client_id"),
    ("/api/tables/payments", {"client_id": "C#1"}, "client_id"),
    ("/api/tables/clients/C1/as-of/2024-02-30", None, "date"),
    ("/api/tables/clients/C1/as-of/2024-02-01", {"known_at": "soon"}, "known_at"),
    ("/api/tables/clients/C1/changes", {"from": "2024-13-01"}, "from"),
    ("/api/tables/clients/C1/history", {"offset": "-1"}, "offset"),
])
def test_bad_parameters_are_400_problems_naming_the_parameter(call_ingest, call_tables, path, query, field):
    call_ingest(client())
    status, _, problem = call_tables(path, query=query)
    assert status == 400 and problem["type"].endswith("/problems/validation-error")
    assert field in [e["field"] for e in problem["errors"]]


def test_unknown_tables_are_404_listing_the_readable_ones(call_tables):
    status, _, problem = call_tables("/api/tables/loans")
    assert status == 404 and problem["tables"] == list(READABLE)


def test_the_read_scope_is_required_on_list_routes(call_tables):
    assert call_tables("/api/tables", scopes="ingest")[0] == 403
    assert call_tables("/api/tables/clients", scopes="ingest")[0] == 403


def test_the_api_documents_itself_without_a_key(tables):
    from functions.tables.handler import handler
    from tests.builders import FakeLambdaContext, api_event
    from tests.conftest import headers_of

    spec = handler(api_event("GET", "/openapi.json", tenant=None), FakeLambdaContext())
    assert spec["statusCode"] == 200 and '"openapi": "3.1.0"' in spec["body"]
    page = handler(api_event("GET", "/docs", tenant=None), FakeLambdaContext())
    assert page["statusCode"] == 200 and headers_of(page)["Content-Type"] == "text/html"
    assert "SwaggerUIBundle" in page["body"] and "cdn." not in page["body"]  # offline: assets inline


def test_each_category_publishes_its_payload_schema_without_a_key(tables):
    from functions.tables.handler import handler
    from ledgerline.api.ingest_schemas import category_schema
    from tests.builders import FakeLambdaContext, api_event
    from tests.conftest import headers_of

    for category in ("client", "disbursement", "payment", "operation"):
        event = api_event("GET", f"/schemas/ingest/{category}.json", tenant=None, resource="/schemas/ingest/{file}",
                          path_parameters={"file": f"{category}.json"})
        response = handler(event, FakeLambdaContext())
        assert response["statusCode"] == 200 and headers_of(response)["Content-Type"] == "application/json"
        assert json.loads(response["body"]) == category_schema(category)

    for name in ("loan.json", "client", "client.yaml"):
        event = api_event("GET", f"/schemas/ingest/{name}", tenant=None, resource="/schemas/ingest/{file}",
                          path_parameters={"file": name})
        response = handler(event, FakeLambdaContext())
        assert response["statusCode"] == 404 and headers_of(response)["Content-Type"] == "application/problem+json"


def test_an_item_that_cannot_be_read_back_is_left_out_and_every_read_still_answers(call_ingest, call_tables, tables):
    from ledgerline.settings import get_settings
    from ledgerline.store.keys import current_key, index_keys, record_pk

    call_ingest(client("C1"))
    call_ingest(client("C2"))
    table = get_settings().records_table
    # Stored behind the API's back: a current item whose record holds a set (no JSON for it),
    # and a broken version item of C1 (its record is text, its valid time garbage).
    when = "2030-01-01T00:00:00.000000Z"
    tables.put_item(TableName=table, Item={
        **current_key("t1", "clients", "C3"), "tenant": {"S": "t1"}, "table": {"S": "clients"}, "id": {"S": "C3"},
        "version": {"N": "1"}, "record": {"M": {"client_id": {"S": "C3"}, "tags": {"SS": ["a", "b"]}}},
        **{name: {"S": value} for name, value in index_keys("t1", "clients", "C3", {"client_id": "C3"}, when).items()},
    })
    tables.put_item(TableName=table, Item={
        "PK": {"S": record_pk("t1", "clients", "C1")}, "SK": {"S": "v0000000009"}, "version": {"N": "9"},
        "record": {"S": "not a record"}, "valid_from": {"S": "yesterday"}, "system_from": {"S": when},
    })

    status, _, page = call_tables("/api/tables/clients")
    assert status == 200 and [i["client_id"] for i in page["items"]] == ["C1", "C2"]
    status, _, missing = call_tables("/api/tables/clients/C3")
    assert status == 404 and missing["type"].endswith("/not-found")
    status, _, history = call_tables("/api/tables/clients/C1/history")
    assert status == 200 and [v["version"] for v in history["history"]] == [1]
    status, _, found = call_tables("/api/tables/clients/C1/as-of/2031-01-01")
    assert status == 200 and found["version"] == 1
    status, _, changed = call_tables("/api/tables/clients/C1/changes")
    assert status == 200 and [c["version"] for c in changed["changes"]] == [1]


@pytest.mark.parametrize("table", READABLE)
def test_each_filter_applies_exactly_where_the_registry_lists_it(call_tables, table):
    from ledgerline.domain.tables import TABLES, Filter

    for name in Filter:
        status, _, body = call_tables(f"/api/tables/{table}", query={name.value: "X1"})
        assert (status == 200) == (name in TABLES[table].filters), (table, name, body)
