"""Asset status rows from operations' asset fields and from a purchase's goods_status."""

from __future__ import annotations

from decimal import Decimal

from ledgerline.domain.derive import rows_of_change
from ledgerline.domain.derive.assets import goods_asset, operation_asset
from ledgerline.domain.derive.common import Cause

CAUSE = Cause("operations", "O1", 1, "ev_1", "2025-03-02", "2025-03-02T09:00:00.000000Z", "CREATION")
OPERATION = {"operation_id": "O1", "operation_type": "cost", "amount": Decimal("10"), "asset_id": "VH-1",
             "asset_type": "vehicle", "asset_status": "active", "asset_value": Decimal("18250.75"),
             "disbursement_id": "D1", "deleted": False, "version": 1}
PURCHASE = {"disbursement_id": "P1", "kind": "purchase", "goods_status": "pending", "goods_description": "Tractor",
            "deleted": False, "version": 1}


def test_an_operation_with_asset_fields_records_the_asset():
    [row] = operation_asset(None, OPERATION, CAUSE)

    assert row.table == "asset_status" and row.id == "VH-1~operations~O1~v1"
    assert row.record == {
        "asset_status_id": "VH-1~operations~O1~v1", "asset_id": "VH-1", "status": "active", "previous_status": None,
        "asset_type": "vehicle", "asset_value": Decimal("18250.75"), "source": "operation", "operation_id": "O1",
        "valid_from": "2025-03-02", "cause": {"table": "operations", "id": "O1", "version": 1, "event_id": "ev_1"},
        "disbursement_id": "D1", "deleted": False,
    }
    assert row.event == "asset_status_update_outgoing"


def test_a_status_change_names_the_previous_one():
    cause = Cause("operations", "O1", 2, "ev_2", "2025-04-01", "2025-04-01T09:00:00.000000Z")
    [row] = operation_asset(OPERATION, {**OPERATION, "asset_status": "repossessed", "version": 2}, cause)

    assert (row.record["status"], row.record["previous_status"]) == ("repossessed", "active")
    assert row.id == "VH-1~operations~O1~v2"


def test_a_new_asset_id_has_no_previous_status():
    [row] = operation_asset(OPERATION, {**OPERATION, "asset_id": "VH-2", "version": 2}, CAUSE)

    assert row.record["asset_id"] == "VH-2" and row.record["previous_status"] is None


def test_an_operation_without_asset_changes_derives_nothing():
    no_asset = {k: v for k, v in OPERATION.items() if not k.startswith("asset_")}

    assert operation_asset(None, no_asset, CAUSE) == []
    assert operation_asset(OPERATION, {**OPERATION, "description": "fuel", "version": 2}, CAUSE) == []
    assert operation_asset(OPERATION, {**OPERATION, "deleted": True, "version": 2}, CAUSE) == []


def test_an_operation_without_disbursement_has_no_disbursement_id():
    [row] = operation_asset(None, {k: v for k, v in OPERATION.items() if k != "disbursement_id"}, CAUSE)

    assert "disbursement_id" not in row.record


def test_a_purchase_records_its_goods_on_create_and_on_every_goods_status_change():
    cause = Cause("disbursements", "P1", 1, "ev_3", "2024-10-20", "2024-10-20T09:00:00.000000Z", "CREATION")
    [created] = goods_asset(None, PURCHASE, cause)
    moved = {**PURCHASE, "goods_status": "in_transit", "version": 2}
    [changed] = goods_asset(PURCHASE, moved, Cause("disbursements", "P1", 2, "ev_4", "2024-11-01", "2024-11-01T00:00:00.000000Z"))

    assert created.record["asset_id"] == "P1" and created.record["disbursement_id"] == "P1"
    assert (created.record["status"], created.record["previous_status"]) == ("pending", None)
    assert created.record["asset_type"] == "goods" and created.record["source"] == "goods_status"
    assert created.record["goods_description"] == "Tractor"
    assert (changed.record["status"], changed.record["previous_status"]) == ("in_transit", "pending")
    assert changed.id == "P1~disbursements~P1~v2"


def test_other_purchase_updates_loans_and_deletes_derive_no_asset_row():
    assert goods_asset(PURCHASE, {**PURCHASE, "bank_ref": "x", "version": 2}, CAUSE) == []
    assert goods_asset(None, {"disbursement_id": "D1", "kind": "loan", "version": 1}, CAUSE) == []
    assert goods_asset(PURCHASE, {**PURCHASE, "deleted": True, "version": 2}, CAUSE) == []


def test_rows_of_change_routes_by_source_table():
    assert [r.table for r in rows_of_change("operations", None, OPERATION, None, CAUSE)] == ["asset_status"]
    assert [r.table for r in rows_of_change("disbursements", None, PURCHASE, None, CAUSE)] == ["asset_status"]
    assert rows_of_change("payments", None, {"payment_id": "PM1", "disbursement_id": "D1"}, None, CAUSE) == []
