"""Demo data for a tenant (`POST /api/demo/seed`, only where the deployment enables it).

A demo asset with holders, positions and a cash-flow event, and a small lending book (clients,
loans, installments, a receipt) sent through the ingest use case, so the reports and the read
API have data. Every id and every ingest Idempotency-Key is fixed, so seeding again changes
nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerline import distributions as ops
from ledgerline.domain.errors import DomainError
from ledgerline.domain.tables import CASH_FLOW_EVENTS
from ledgerline.ingest import IngestRequest, ingest
from ledgerline.store import distributions as store

ASSET_ID = "demo-fund"
EVENT_ID = "demo-2025-q1"
HOLDER_FILE = (
    "holder_id,name,email,iban,account_number,bank_code,units\n"
    "ana,Ana Souza,ana@example.com,DE89370400440532013000,,,400\n"
    "ben,Ben Okafor,ben@example.com,GB82WEST12345698765432,,,350\n"
    "chen,Chen Wei,chen@example.com,,12345678,BANK-01,250\n"
    "dora,Dora Lind,,,,,0.5\n"  # no bank details: a blocking exception to fix before approval
)


def _lending_book() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for n, (name, amount, installment) in enumerate((("Atlas Freight Ltd", "25000", "8833.33"),
                                                      ("Bela Farms", "12000", "4500")), start=1):
        client_id, loan_id = f"demo-client-{n}", f"demo-loan-{n}"
        events.append({"category": "client", "data": {
            "client_id": client_id, "step": "create", "name": name, "client_type": "company", "currency": "EUR"}})
        events.append({"category": "disbursement", "data": {
            "disbursement_id": loan_id, "step": "create", "kind": "loan", "client_id": client_id,
            "disbursement_amount": Decimal(amount), "currency": "EUR", "total_expected_margin": Decimal("1500"),
            "disbursement_date": "2025-01-10", "maturity_date": "2025-07-10"}})
        for number, due in enumerate(("2025-02-10", "2025-03-10", "2025-04-10"), start=1):
            events.append({"category": "payment", "data": {
                "payment_id": f"{loan_id}-i{number}", "disbursement_id": loan_id, "status": "expected",
                "amount": Decimal(installment), "currency": "EUR", "due_date": due,
                "installment_number": number}})
    events.append({"category": "payment", "data": {
        "payment_id": "demo-loan-1-i1", "disbursement_id": "demo-loan-1", "status": "paid",
        "amount": Decimal("8833.33"), "currency": "EUR", "due_date": "2025-02-10", "installment_number": 1,
        "payment_date": "2025-02-09"}})
    return events


def seed(actor: ops.Actor) -> ops.Answer:
    created = []
    if _absent(lambda: ops.get_asset(actor, ASSET_ID)):
        ops.create_asset(actor, {"asset_id": ASSET_ID, "name": "Demo Receivables Fund", "asset_type": "loan-pool",
                                 "currency": "EUR", "total_units": Decimal("1000.5"),
                                 "disbursement_ids": ["demo-loan-1", "demo-loan-2"]})
        created.append(f"asset {ASSET_ID}")
    holders = ops.import_holders(actor, ASSET_ID, HOLDER_FILE.encode(), "2025-01-01").body
    if store.one(actor.tenant, CASH_FLOW_EVENTS, f"{ASSET_ID}:{EVENT_ID}") is None:
        ops.create_cash_flow_event(actor, ASSET_ID, {
            "cash_flow_event_id": EVENT_ID, "type": "interest", "amount": Decimal("12345.67"), "currency": "EUR",
            "record_date": "2025-03-31", "payment_date": "2025-04-15", "description": "Q1 2025 collections"})
        created.append(f"cash-flow event {EVENT_ID}")
    book = [ingest(IngestRequest(actor.tenant, actor.key_id, f"demo-seed-{n}", body))["status"]
            for n, body in enumerate(_lending_book())]
    return ops.Answer(200, {
        "asset_id": ASSET_ID, "cash_flow_event_id": EVENT_ID, "created": created, "holders": holders,
        "lending_book": {"events": len(book), "stored": sum(status != "Duplicate" for status in book)},
    })


def _absent(read: Any) -> bool:
    try:
        read()
    except DomainError as error:
        if error.problem == "not-found":
            return True
        raise
    return False
