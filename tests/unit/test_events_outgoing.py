"""Outgoing events: deterministic ids, the envelope, the PutEvents entry, the log row, and
every kind of event the derivations produce validated against its published schema."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from jsonschema import ValidationError

from ledgerline.domain.derive import recompute, rows_of_change
from ledgerline.domain.derive.common import Cause
from ledgerline.domain.derive.status import derive_status, status_row
from ledgerline.events.outgoing import (
    EVENT_NAMES,
    event_id,
    log_record,
    outgoing_for,
    put_events_entry,
    run_update,
)
from tools.event_schemas import validate_detail

CAUSE = Cause("payments", "PM1", 2, "ev_abc", "2025-01-14", "2025-01-14T09:30:12.000184Z", "UPDATE")
LOAN = {"disbursement_id": "D1", "kind": "loan", "currency": "EUR", "disbursement_amount": Decimal("10000"),
        "total_expected_margin": Decimal("1293.5"), "maturity_date": "2025-10-20", "deleted": False, "version": 1}


def pay(payment_id, status="expected", due="2025-01-12", amount="850.25"):
    return {"payment_id": payment_id, "disbursement_id": "D1", "status": status, "due_date": due,
            "amount": Decimal(amount), "deleted": False, "created_at": "2025-01-01T00:00:00.000000Z"}


def test_event_ids_are_deterministic_and_tell_rows_and_versions_apart():
    same = event_id("t1", "statements", "D1", 3)

    assert same == event_id("t1", "statements", "D1", 3)
    assert same.startswith("oe_") and len(same) == 35
    assert len({same, event_id("t1", "statements", "D1", 4), event_id("t2", "statements", "D1", 3),
                event_id("t1", "disbursement_status", "D1", 3)}) == 4


def test_envelope_carries_the_ingest_event_and_the_row():
    row = status_row("D1", "ongoing", derive_status(LOAN, [pay("PM1")], date(2025, 1, 14)), CAUSE)

    event = outgoing_for("t1", row, 1, CAUSE)

    assert event.name == "disbursement_status_update_outgoing"
    assert event.event_id == event_id("t1", "disbursement_status", row.id, 1)
    assert event.detail == {
        "event_id": event.event_id, "tenant": "t1", "operation": "UPDATE", "status": "SUCCESS",
        "message": "Disbursement D1 status changed from ongoing to overdue",
        "ingest": {"id": "ev_abc", "version_date": "2025-01-14T09:30:12.000184Z"},
        "entity": {k: v for k, v in row.record.items() if k != "deleted"},
    }
    assert event.subject == {"table": "disbursement_status", "id": row.id, "version": 1}
    assert event.disbursement_id == "D1"


def test_put_events_entry_keeps_money_exact():
    result = recompute(LOAN, [pay("PM1", amount="0.1"), pay("PM2", due="2025-02-12", amount="0.2")], None,
                       date(2025, 1, 1), CAUSE)
    event = outgoing_for("t1", result.statement, 1, CAUSE)

    entry = put_events_entry(event, "bus-1")

    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "ledgerline", "disbursement_balance_statement_update_outgoing", "bus-1")
    assert '"current_balance":0.3' in entry["Detail"]  # 0.1 + 0.2, not 0.30000000000000004
    assert json.loads(entry["Detail"])["entity"]["version"] == 1


def test_log_record_is_the_outgoing_events_row():
    row = status_row("D1", None, derive_status(LOAN, [], date(2025, 1, 1)), CAUSE)
    event = outgoing_for("t1", row, 1, CAUSE)

    record = log_record(event, "2025-01-14T09:30:13.000000Z")

    assert record == {
        "event_id": event.event_id, "name": "disbursement_status_update_outgoing", "schema_version": 1,
        "detail": event.detail, "subject": event.subject, "cause": CAUSE.as_record(),
        "published_at": "2025-01-14T09:30:13.000000Z", "disbursement_id": "D1", "deleted": False,
    }


# -- every kind of emitted event against its schema ----------------------------------------------


def emitted_details():
    """(name, detail) of events built from each derivation, edge values included."""
    today = date(2025, 1, 14)
    found = []
    # statements: empty, delinquent with the Sunday due date, settled, canceled
    for payments, disbursement in (
        ([], LOAN),
        ([pay("PM1"), pay("PM2", due="2025-02-12")], LOAN),
        ([pay("PM1", "paid"), pay("PM3", "canceled")], LOAN),
        ([pay("PM1")], {**LOAN, "deleted": True}),
        ([pay("PM1")], {**LOAN, "disbursement_amount": Decimal("0")}),
    ):
        result = recompute(disbursement, payments, None, today, CAUSE)
        found += [outgoing_for("t1", row, 1, CAUSE) for row in result.rows]
    # changes: extension (negative too), rebate, write-off
    update = Cause("disbursements", "D1", 2, "ev_x", "2025-02-01", "2025-02-01T00:00:00.000000Z", "UPDATE")
    new = {**LOAN, "version": 2, "maturity_date": "2025-09-20", "total_expected_margin": Decimal("1000"),
           "disbursement_amount": Decimal("0")}
    found += [outgoing_for("t1", row, 1, update)
              for row in rows_of_change("disbursements", LOAN, new, {"change_date": "2025-02-01"}, update)]
    # assets: an operation with and without status and value, a purchase's goods
    op_cause = Cause("operations", "O1", 1, "ev_o", "2025-03-02", "2025-03-02T00:00:00.000000Z", "CREATION")
    operation = {"operation_id": "O1", "asset_id": "VH-1", "asset_type": "vehicle", "asset_status": "impaired",
                 "asset_value": Decimal("18250.75"), "disbursement_id": "D1", "deleted": False}
    bare = {"operation_id": "O2", "asset_id": "VH-2", "deleted": False}
    purchase = {"disbursement_id": "P1", "kind": "purchase", "goods_status": "delivered", "goods_description": "Tractor",
                "deleted": False, "version": 1}
    for table, record in (("operations", operation), ("operations", bare), ("disbursements", purchase)):
        found += [outgoing_for("t1", row, 1, op_cause) for row in rows_of_change(table, None, record, None, op_cause)]
    # distributions: a run calculated (version 1) and approved (version 2)
    run = {"run_id": "run_1", "asset_id": "fund-1", "cash_flow_event_id": "q1", "status": "calculated",
           "record_date": "2025-03-31", "payment_date": "2025-04-15", "total_units": Decimal("300"),
           "total_amount": Decimal("100.00"), "currency": "EUR", "calculated_by": "key_a", "line_count": 3,
           "exceptions": [], "deleted": False}
    found.append(run_update("t1", run, 1, "req-1", "2025-04-01T10:00:00.000000Z"))
    found.append(run_update("t1", {**run, "status": "approved", "approved_by": "key_b"}, 2, "req-2",
                            "2025-04-01T11:00:00.000000Z"))
    return [(event.name, event.detail) for event in found]


def test_every_kind_of_event_is_emitted_by_these_cases():
    assert {name for name, _ in emitted_details()} == set(EVENT_NAMES)


@pytest.mark.parametrize(("name", "detail"), emitted_details(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_emitted_event_validates_against_its_schema(name, detail):
    validate_detail(name, 1, detail)


def test_the_schema_rejects_what_the_contract_does_not_allow():
    [(name, detail)] = [(n, d) for n, d in emitted_details() if n == "disbursement_status_update_outgoing"][:1]

    with pytest.raises(ValidationError):
        validate_detail(name, 1, {**detail, "operation": "UPSERT"})
    with pytest.raises(ValidationError):
        validate_detail(name, 1, {k: v for k, v in detail.items() if k != "ingest"})
    with pytest.raises(ValidationError):
        validate_detail(name, 1, {**detail, "entity": {**detail["entity"], "status": "late"}})


def test_a_run_event_id_is_stable_per_run_version_and_names_the_change():
    run = {"run_id": "run_1", "asset_id": "a", "cash_flow_event_id": "e", "status": "canceled", "record_date": "2025-01-01",
           "total_units": Decimal(1), "total_amount": Decimal(1), "currency": "EUR", "calculated_by": "k",
           "exceptions": [{"code": "zero-amount-line"}], "deleted": False}
    first = run_update("t1", run, 3, "req-1", "2025-01-02T00:00:00.000000Z")
    again = run_update("t1", run, 3, "req-9", "2025-01-03T00:00:00.000000Z")

    assert first.event_id == again.event_id != run_update("t1", run, 4, "req-1", "x").event_id
    assert first.detail["operation"] == "UPDATE" and first.detail["message"] == "Distribution run run_1 canceled"
    assert "exceptions" not in first.detail["entity"] and first.detail["entity"]["version"] == 3


def test_amounts_in_an_event_detail_are_plain_numbers():
    # Amounts kept as the partner wrote them (1E+3 is an exact amount) are published plainly.
    old = {**LOAN, "total_expected_margin": Decimal("1E+3"), "disbursement_amount": Decimal("1E+4")}
    new = {**old, "total_expected_margin": Decimal("5E+2"), "disbursement_amount": Decimal("0"), "version": 2}
    rebate, write_off = rows_of_change("disbursements", old, new, {"change_date": "2025-02-01"}, CAUSE)

    rebate_detail = put_events_entry(outgoing_for("t1", rebate, 1, CAUSE), "bus")["Detail"]
    write_off_detail = put_events_entry(outgoing_for("t1", write_off, 1, CAUSE), "bus")["Detail"]

    assert '"old_margin":1000,' in rebate_detail and '"rebate_amount":500' in rebate_detail
    assert "margin lowered from 1000 to 500" in rebate_detail
    assert '"write_off_amount":10000' in write_off_detail and "written off by 10000 in full" in write_off_detail
    assert "E+" not in rebate_detail + write_off_detail
