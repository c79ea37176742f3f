"""`make demo`: load a realistic demo book into the running local stack, then say what to try.

The book: five clients; three loans and two purchases with monthly schedules; receipts; a loan
whose last installments are late; an extension; a loan written off; fees, costs and an asset.
Every event has a fixed Idempotency-Key, so running it again changes nothing (each event then
answers Duplicate).

    PORT=3000 KEY=ll_... python -m local.demo
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerline.domain.jsonio import dumps

EUR = "EUR"
Event = dict[str, Any]


def _months(first: date, count: int) -> Iterator[date]:
    for n in range(count):
        month = first.month - 1 + n
        yield first.replace(year=first.year + month // 12, month=month % 12 + 1)


def _client(client_id: str, name: str, client_type: str, **fields: Any) -> Event:
    return {"category": "client", "data": {"client_id": client_id, "step": "create", "name": name,
                                           "client_type": client_type, "currency": EUR, "country": "PT", **fields}}


def _disbursement(disbursement_id: str, **fields: Any) -> Event:
    return {"category": "disbursement", "data": {"disbursement_id": disbursement_id, "step": "create",
                                                 "currency": EUR, **fields}}


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
    """The demo book's events, parents before children."""
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


def _post(base: str, key: str, event: Event, idempotency_key: str) -> tuple[int, dict[str, Any]]:
    body = dumps(event).encode()
    request = urllib.request.Request(f"{base}/ingest", data=body, method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json", "Idempotency-Key": idempotency_key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def load(base: str, key: str) -> Counter[str]:
    """Send the book; returns how many events answered each status. Raises on a refused event."""
    answers: Counter[str] = Counter()
    for number, event in enumerate(book(), start=1):
        record_id = next(iter(event["data"].values()))
        status, answer = _post(base, key, event, f"demo-{number:03d}-{record_id}")
        if status != 200:
            raise RuntimeError(f"event {number} ({event['category']} {record_id}) refused: {status} {answer}")
        answers[answer["status"]] += 1
    return answers


NEXT_STEPS = """
Try next (KEY and API as above):
  the late loan's statement, cycle by cycle:
    curl -s $API/api/tables/statements/DEMO-L2 -H "Authorization: Bearer $KEY"
  its status history (ongoing, then overdue):
    curl -s "$API/api/tables/disbursement_status?disbursement_id=DEMO-L2" -H "Authorization: Bearer $KEY"
  the write-off and the extension the worker derived:
    curl -s "$API/api/tables/write_offs?disbursement_id=DEMO-L3" -H "Authorization: Bearer $KEY"
    curl -s "$API/api/tables/extensions?disbursement_id=DEMO-L1" -H "Authorization: Bearer $KEY"
  a loan as it stood before its extension:
    curl -s $API/api/tables/disbursements/DEMO-L1/as-of/2026-08-31 -H "Authorization: Bearer $KEY"
  every version of it:
    curl -s $API/api/tables/disbursements/DEMO-L1/history -H "Authorization: Bearer $KEY"
  check an event without sending it, in a browser: $API/validator
"""


def main() -> None:
    key = os.environ.get("KEY", "").strip()
    base = f"http://127.0.0.1:{os.environ.get('PORT', '3000')}"
    if not key:
        sys.exit("make demo needs the key `make run` printed: make demo KEY=ll_...")
    try:
        answers = load(base, key)
    except urllib.error.URLError as error:
        sys.exit(f"cannot reach the local stack at {base} ({error.reason}): start it with `make run`")
    print(f"Demo book on {base}: {len(book())} events, "
          + ", ".join(f"{count} {status}" for status, count in sorted(answers.items())))
    print(NEXT_STEPS.replace("(KEY and API as above)", f"(export API={base} KEY=<your key>)"))


if __name__ == "__main__":
    main()
