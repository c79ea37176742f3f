"""Demo data for a tenant (`POST /api/demo/seed`, only where the deployment enables it).

A demo asset with holders, positions and a cash-flow event, and a lending book sent through the
ingest use case, so the reports, the read API and the worker's derived rows have data: five
clients; three loans and two purchases with monthly schedules; receipts; a loan whose last
installments are late; an extension; a loan written off; fees, costs and an asset. Every id and
every ingest Idempotency-Key is fixed, so seeding again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerline import distributions as ops
from ledgerline.domain.errors import DomainError
from ledgerline.domain.tables import CASH_FLOW_EVENTS
from ledgerline.ingest import IngestRequest, ingest
from ledgerline.store import distributions as store

EUR = "EUR"
Event = dict[str, Any]
ASSET_ID = "demo-fund"
EVENT_ID = "demo-2025-q1"
HOLDER_FILE = (
    "holder_id,name,email,iban,account_number,bank_code,units\n"
    "ana,Ana Souza,ana@example.com,DE89370400440532013000,,,400\n"
    "ben,Ben Okafor,ben@example.com,GB82WEST12345698765432,,,350\n"
    "chen,Chen Wei,chen@example.com,,12345678,BANK-01,250\n"
    "dora,Dora Lind,,,,,0.5\n"  # no bank details: a blocking exception to fix before approval
)


def _months(first: date, count: int) -> Iterator[date]:
    for n in range(count):
        month = first.month - 1 + n
        yield first.replace(year=first.year + month // 12, month=month % 12 + 1)


def _client(client_id: str, name: str, client_type: str, **fields: Any) -> Event:
    return {"category": "client", "data": {"client_id": client_id, "step": "create", "name": name,
                                           "client_type": client_type, "currency": EUR, "country": "PT", **fields}}


def _disbursement(disbursement_id: str, **fields: Any) -> Event:
    """A create that took effect on its start date, so as-of reads show the book as it stood then."""
    started = fields.get("disbursement_date") or fields["operation_date"]
    return {"category": "disbursement", "effective_at": started,
            "data": {"disbursement_id": disbursement_id, "step": "create", "currency": EUR, **fields}}


def _update(disbursement_id: str, **fields: Any) -> Event:
    return {"category": "disbursement", "data": {"disbursement_id": disbursement_id, "step": "update", **fields}}


def _schedule(disbursement_id: str, first_due: date, count: int, amount: str, paid: int, **fields: Any) -> list[Event]:
    """`count` monthly installments, then a receipt (paid a day early) for each of the first `paid`."""
    expected, receipts = [], []
    for number, due in enumerate(_months(first_due, count), start=1):
        payment = {"payment_id": f"{disbursement_id}-{number:02d}", "disbursement_id": disbursement_id,
                   "due_date": due.isoformat(), **fields}
        expected.append({"category": "payment", "data": {**payment, "status": "expected", "amount": Decimal(amount),
                                                         "currency": EUR, "installment_number": number}})
        if number <= paid:
            received = (due - timedelta(days=1)).isoformat()
            receipts.append({"category": "payment", "data": {**payment, "status": "paid", "payment_date": received}})
    return expected + receipts


def _operation(operation_id: str, operation_type: str, amount: str, when: str, **fields: Any) -> Event:
    return {"category": "operation", "data": {"operation_id": operation_id, "operation_type": operation_type,
                                              "amount": Decimal(amount), "currency": EUR, "operation_date": when,
                                              **fields}}


def book() -> list[Event]:
    """The demo lending book's events, parents before children."""
    return [
        _client("DEMO-C1", "Maria Santos", "individual", email="maria.santos@example.com", birth_date="1979-04-02"),
        _client("DEMO-C2", "João Ferreira", "individual", phone="+351 913 000 111"),
        _client("DEMO-C3", "Horta Verde Lda", "company", tax_id="PT510000001", info={"segment": "agriculture"}),
        _client("DEMO-C4", "Oficina Norte Lda", "company", tax_id="PT510000002"),
        _client("DEMO-C5", "Rita Almeida", "individual"),
        # A personal loan, repaid on time, extended by three months.
        _disbursement("DEMO-L1", kind="loan", client_id="DEMO-C1", disbursement_amount=Decimal("3000"),
                      total_expected_margin=Decimal("240"), upfront_fee=Decimal("30"),
                      disbursement_date="2026-06-15", maturity_date="2026-12-15"),
        *_schedule("DEMO-L1", date(2026, 7, 15), 6, "540", paid=5),
        _update("DEMO-L1", maturity_date="2027-03-15", change_date="2026-09-01",
                change_reason="Three-month extension requested by the borrower"),
        # A loan to two co-borrowers whose last two installments were never paid: late.
        _disbursement("DEMO-L2", kind="loan", client_id="DEMO-C2", client_ids=["DEMO-C2", "DEMO-C5"],
                      disbursement_amount=Decimal("2000"), total_expected_margin=Decimal("100"),
                      disbursement_date="2026-04-10", maturity_date="2026-08-10"),
        *_schedule("DEMO-L2", date(2026, 5, 10), 4, "525", paid=2),
        # A small loan written off after one installment; the rest of its schedule is canceled.
        _disbursement("DEMO-L3", kind="loan", client_id="DEMO-C5", disbursement_amount=Decimal("1500"),
                      total_expected_margin=Decimal("90"), disbursement_date="2025-06-01",
                      maturity_date="2025-09-01"),
        *_schedule("DEMO-L3", date(2025, 7, 1), 3, "530", paid=1),
        *[{"category": "payment", "data": {"payment_id": f"DEMO-L3-{n:02d}", "disbursement_id": "DEMO-L3",
                                           "status": "canceled", "due_date": due.isoformat()}}
          for n, due in enumerate(_months(date(2025, 8, 1), 2), start=2)],
        _update("DEMO-L3", disbursement_amount=Decimal("0"), change_date="2026-02-01",
                change_reason="Borrower insolvent; balance written off"),
        # A tractor financed for a farm, delivered, repaid monthly.
        _disbursement("DEMO-P1", kind="purchase", purchase_clients=[{"client_id": "DEMO-C3", "share": Decimal("1")}],
                      disbursement_amount=Decimal("45000"), total_expected_margin=Decimal("3000"),
                      operation_date="2026-06-01", payment_date="2026-06-03", estimated_delivery_date="2026-07-15",
                      goods_description="Tractor, 110 hp", goods_status="pending", pledge_creditor="Banco Rural SA"),
        _update("DEMO-P1", goods_status="delivered"),
        *_schedule("DEMO-P1", date(2026, 9, 1), 4, "12000", paid=3, client_id="DEMO-C3"),
        # Workshop equipment bought by two companies, still in transit.
        _disbursement("DEMO-P2", kind="purchase", disbursement_amount=Decimal("18000"),
                      total_expected_margin=Decimal("900"),
                      purchase_clients=[{"client_id": "DEMO-C4", "share": Decimal("0.6")},
                                        {"client_id": "DEMO-C3", "share": Decimal("0.4")}],
                      operation_date="2026-09-01", payment_date="2026-09-02", estimated_delivery_date="2026-12-20",
                      goods_description="Hydraulic lift and diagnostic bench", goods_status="in_transit"),
        *_schedule("DEMO-P2", date(2026, 11, 20), 3, "6300", paid=1, client_id="DEMO-C4"),
        # Fees, costs and the financed asset.
        _operation("DEMO-O1", "revenue", "30", "2026-06-15", disbursement_id="DEMO-L1", description="Upfront fee"),
        _operation("DEMO-O2", "cost", "35.5", "2026-04-10", disbursement_id="DEMO-L2", description="Credit check"),
        _operation("DEMO-O3", "cost", "250", "2026-07-16", disbursement_id="DEMO-P1", description="Delivery inspection",
                   asset_id="DEMO-TRACTOR-1", asset_type="tractor", asset_status="active",
                   asset_value=Decimal("42000")),
    ]


def seed(actor: ops.Actor) -> ops.Answer:
    created = []
    if _absent(lambda: ops.get_asset(actor, ASSET_ID)):
        ops.create_asset(actor, {"asset_id": ASSET_ID, "name": "Demo Receivables Fund", "asset_type": "loan-pool",
                                 "currency": "EUR", "total_units": Decimal("1000.5"),
                                 "disbursement_ids": ["DEMO-L1", "DEMO-L2"]})
        created.append(f"asset {ASSET_ID}")
    holders = ops.import_holders(actor, ASSET_ID, HOLDER_FILE.encode(), "2025-01-01").body
    if store.one(actor.tenant, CASH_FLOW_EVENTS, f"{ASSET_ID}:{EVENT_ID}") is None:
        ops.create_cash_flow_event(actor, ASSET_ID, {
            "cash_flow_event_id": EVENT_ID, "type": "interest", "amount": Decimal("12345.67"), "currency": "EUR",
            "record_date": "2025-03-31", "payment_date": "2025-04-15", "description": "Q1 2025 collections"})
        created.append(f"cash-flow event {EVENT_ID}")
    statuses = [ingest(IngestRequest(actor.tenant, actor.key_id, f"demo-seed-{n}", body))["status"]
                for n, body in enumerate(book())]
    return ops.Answer(200, {
        "asset_id": ASSET_ID, "cash_flow_event_id": EVENT_ID, "created": created, "holders": holders,
        "lending_book": {"events": len(statuses), "stored": sum(status != "Duplicate" for status in statuses)},
    })


def _absent(read: Any) -> bool:
    try:
        read()
    except DomainError as error:
        if error.problem == "not-found":
            return True
        raise
    return False
