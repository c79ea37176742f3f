"""Reports over a hand-worked book: ingest through the real handler, the stream pump feeding the
real worker, reports read through the real tables handler (moto)."""

from __future__ import annotations

import time
from decimal import Decimal as D
from typing import Any

import pytest

from ledgerline.domain.jsonio import loads
from ledgerline.store.keys import system_time
from tests.builders import FakeLambdaContext, api_event, client, loan, payment, purchase
from tests.builders import operation as operation_event
from tests.conftest import headers_of
from tests.integration.test_worker_failures import spy_on


@pytest.fixture
def report(tables):
    from functions.tables.handler import handler

    def call(name: str, *, tenant: str = "t1", scopes: str = "read", headers: dict[str, str] | None = None,
             **query: str) -> tuple[int, dict[str, str], Any]:
        query = {k.rstrip("_"): v for k, v in query.items()}
        event = api_event("GET", f"/api/reports/{name}", tenant=tenant, scopes=scopes, query=query or None,
                          headers=headers)
        response = handler(event, FakeLambdaContext())
        body = loads(response["body"]) if response.get("body") else None
        return response["statusCode"], headers_of(response), body

    return call


def ok(call, name: str, **query: str) -> dict[str, Any]:
    status, _, body = call(name, **query)
    assert status == 200, body
    return body


class Book(str):
    """K1 (a system time), with the stream records the worker received."""

    def __new__(cls, known_at: str, delivered: list[dict[str, Any]]) -> Book:
        made = super().__new__(cls, known_at)
        made.delivered = delivered
        return made


def balances(sheet: dict[str, Any]) -> dict[str, D]:
    return {a["code"]: a["balance"] for section in ("assets", "equity") for a in sheet[section]["accounts"]}


def activities(statement: dict[str, Any]) -> dict[str, D]:
    return {a["code"]: a["activity"] for section in ("revenue", "expenses") for a in statement[section]["accounts"]}


@pytest.fixture
def book(call_ingest, stream_pump):
    """The hand-worked book (EUR), and K1: a moment after everything but the late correction and
    the write-off were stored.

    1. Loan D1 on 2024-01-15: 10,000 disbursed, upfront fee 200, so gross 10,200.
         Dr 1100 10,000 / Cr 1000 10,000;  Dr 1100 200 / Cr 4100 200
    2. Schedule: P1, P2, P3 of 1,100 (1,000 principal + 100 interest), due 02-15, 03-15, 04-15.
       Expected payments post nothing.
    3. P1 received 2024-02-14: Dr 1000 1,100 / Cr 4000 100 / Cr 1100 1,000.
    4. P2 received partly on 2024-03-20, 600 (500 principal + 100 interest):
         Dr 1000 600 / Cr 4000 100 / Cr 1100 500.
    5. Revenue O1 2024-02-01, 50: Dr 1000 / Cr 4200.  Cost O2 2024-02-28, 30: Dr 5100 / Cr 1000.
    6. Purchase PU1 on 2024-03-01, 5,000 (gross 5,000): Dr 1200 5,000 / Cr 1000 5,000.
       ---- K1 ----
    7. Late correction: P1 was really 1,050 (interest 50). Restated on 2024-02-14:
         reversal Dr 1100 1,000, Dr 4000 100 / Cr 1000 1,100; new Dr 1000 1,050 / Cr 4000 50 / Cr 1100 1,000.
    8. D1 written off on 2024-06-30 (amount to 0): the whole remaining receivable,
       10,200 - 1,000 - 500 = 8,700: Dr 5000 8,700 / Cr 1100 8,700.

    As of 2024-03-31, known now: cash -10,000 + 1,050 + 600 + 50 - 30 - 5,000 = -13,330;
    1100 = 8,700; 1200 = 5,000; assets 370. Income: 4000 150, 4100 200, 4200 50, 5100 30:
    retained earnings 370. Known at K1 (before the correction): cash -13,280, 4000 200, total 420.
    As of 2024-06-30: 1100 = 0, 5000 = 8,700: assets = retained earnings = -8,330.
    """
    def send(body: dict[str, Any], effective_at: str | None = None) -> None:
        status, _, answer = call_ingest({**body, **({"effective_at": effective_at} if effective_at else {})})
        assert status == 200, answer

    send(client("C1"), "2024-01-02")
    send(client("C1", step="update", name="Ada King"), "2024-02-10")
    send(client("C2", name="Charles Babbage"), "2024-03-01")
    send(client("C2", step="delete"), "2024-04-01")
    send(loan("D1", disbursement_amount=D("10000"), upfront_fee=D("200"), disbursement_date="2024-01-15",
              maturity_date="2025-01-15", total_expected_margin=D("1200")))
    for number, due in enumerate(("2024-02-15", "2024-03-15", "2024-04-15"), start=1):
        send(payment(f"P{number}", due_date=due, installment_number=number, amount=D("1100"),
                     principal_amount=D("1000"), interest_amount=D("100")))
    send(payment("P1", "paid", due_date="2024-02-15", installment_number=1, amount=D("1100"),
                 payment_date="2024-02-14"))
    send(payment("P2", "paid", due_date="2024-03-15", installment_number=2, amount=D("600"),
                 principal_amount=D("500"), interest_amount=D("100"), payment_date="2024-03-20"))
    send(operation_event("O1", amount=D("50"), operation_date="2024-02-01"))
    send(operation_event("O2", operation_type="cost", amount=D("30"), operation_date="2024-02-28"))
    send(purchase("PU1", disbursement_amount=D("5000"), operation_date="2024-03-01"))
    delivered = spy_on(stream_pump)
    stream_pump.drain()
    time.sleep(0.002)
    k1 = system_time()
    time.sleep(0.002)
    send(payment("P1", "paid", due_date="2024-02-15", installment_number=1, amount=D("1050"),
                 interest_amount=D("50"), payment_date="2024-02-14"))
    send(loan("D1", step="update", disbursement_amount=D("0"), change_date="2024-06-30",
              change_reason="borrower insolvent"))
    stream_pump.drain()
    return Book(k1, delivered)


def check_the_balance_sheet_of_the_hand_worked_book(book, report):
    sheet = ok(report, "balance-sheet", as_of="2024-03-31", currency="EUR")
    assert balances(sheet) == {"1000": D("-13330"), "1100": D("8700"), "1200": D("5000"), "3100": D("370")}
    assert sheet["balance_check"] == {"assets_total": D("370"), "liabilities_and_equity_total": D("370"),
                                      "balanced": True}
    assert sheet["liabilities"] == {"accounts": [], "total": 0}

    before_correction = ok(report, "balance-sheet", as_of="2024-03-31", currency="EUR", known_at=book)
    assert balances(before_correction) == {"1000": D("-13280"), "1100": D("8700"), "1200": D("5000"),
                                           "3100": D("420")}
    assert before_correction["known_at"] == book

    year_end = ok(report, "balance-sheet", as_of="2024-06-30", currency="EUR")
    assert balances(year_end) == {"1000": D("-13330"), "1100": D("0"), "1200": D("5000"), "3100": D("-8330")}
    assert year_end["balance_check"]["balanced"] is True
    assert balances(ok(report, "balance-sheet", as_of="2024-01-14", currency="EUR")) == dict.fromkeys(
        ("1000", "1100", "1200", "3100"), D("0"))


def check_the_income_statement_and_its_memo(book, report):
    statement = ok(report, "income-statement", from_="2024-01-01", to="2024-06-30", currency="EUR")
    assert activities(statement) == {"4000": D("150"), "4100": D("200"), "4200": D("50"), "5000": D("8700"),
                                     "5100": D("30")}
    assert (statement["revenue"]["total"], statement["expenses"]["total"], statement["net_income"]) == \
        (D("400"), D("8730"), D("-8330"))
    assert statement["memo"] == {"rebates_granted": D("0"), "write_offs": D("8700")}
    # net income since inception = retained earnings on the balance sheet
    sheet = ok(report, "balance-sheet", as_of="2024-06-30", currency="EUR")
    assert statement["net_income"] == balances(sheet)["3100"]

    february = ok(report, "income-statement", from_="2024-02-01", to="2024-02-29", currency="EUR",
                  known_at=book)
    assert activities(february)["4000"] == D("100") and february["net_income"] == D("120")


def check_the_cash_flow_splits_each_entry_and_ends_at_balance_sheet_cash(book, report):
    flow = ok(report, "cash-flow", from_="2024-01-01", to="2024-06-30", currency="EUR")
    assert flow["beginning_balance"] == 0
    # the restated receipt counts once: 1,050 split 1,000 investing + 50 operating
    assert flow["operating"] == {"inflows": D("200"), "outflows": D("30"), "net": D("170")}
    assert flow["investing"] == {"inflows": D("1500"), "outflows": D("15000"), "net": D("-13500")}
    assert flow["financing"] == {"inflows": 0, "outflows": 0, "net": 0}
    assert (flow["net_change"], flow["ending_balance"]) == (D("-13330"), D("-13330"))

    march = ok(report, "cash-flow", from_="2024-03-01", to="2024-03-31", currency="EUR")
    assert march["beginning_balance"] == D("-8930")  # -10,000 + 1,050 + 50 - 30
    assert march["ending_balance"] == D("-13330")


def check_the_portfolio_ages_the_book_in_business_time(book, report):
    march = ok(report, "portfolio", as_of="2024-03-31", currency="EUR")
    assert march["totals"] == {"disbursements": 2, "outstanding": D("13700")}
    assert march["by_status"]["ongoing"] == {"count": 2, "outstanding": D("13700")}
    assert march["par30"] == D("0")

    may = ok(report, "portfolio", as_of="2024-05-31", currency="EUR")
    assert may["by_status"]["overdue"] == {"count": 1, "outstanding": D("8700")}  # P3 due 04-15: 46 days
    assert {b["bucket"]: (b["count"], b["outstanding"]) for b in may["aging"]} == {
        "current": (1, D("5000")), "1-30": (0, 0), "31-60": (1, D("8700")), "61-90": (0, 0), "91+": (0, 0)}
    assert may["par30"] == D("0.635036")  # 8,700 / 13,700

    june = ok(report, "portfolio", as_of="2024-06-30", currency="EUR")
    assert june["by_status"]["written_off"] == {"count": 1, "outstanding": D("0")}
    assert june["totals"] == {"disbursements": 2, "outstanding": D("5000")}
    # as known before the write-off was stored, D1 was still overdue
    known_before = ok(report, "portfolio", as_of="2024-06-30", currency="EUR", known_at=book)
    assert known_before["by_status"]["overdue"] == {"count": 1, "outstanding": D("8700")}


def check_client_analytics_list_the_registry_movements(book, report):
    body = ok(report, "analytics/clients", from_="2024-01-01", to="2024-03-31")
    assert body["summary"] == {"additions": 2, "removals": 0, "changes": 1, "total_changes": 3}
    assert [(t["date"], t["change_type"], t["client_id"]) for t in body["timeline"]] == [
        ("2024-01-02", "addition", "C1"), ("2024-02-10", "change", "C1"), ("2024-03-01", "addition", "C2")]
    assert body["timeline"][1]["fields"]["name"] == {"old": "Ada Lovelace", "new": "Ada King"}
    april = ok(report, "analytics/clients", from_="2024-04-01", to="2024-04-30")
    assert [(t["change_type"], t["client_id"]) for t in april["timeline"]] == [("removal", "C2")]


def check_the_journal_drills_down_to_the_lines_and_their_causes(book, report):
    lines = ok(report, "journal", from_="2024-02-14", to="2024-02-14", currency="EUR", account="1000")["lines"]
    assert [(line["debit"], line["credit"]) for line in lines] == [(D("1100"), 0), (0, D("1100")), (D("1050"), 0)]
    assert lines[0]["cause"]["table"] == "payments" and lines[0]["cause"]["version"] == 2
    assert lines[1]["system_from"] > book and lines[1]["cause"]["version"] == 3
    as_known = ok(report, "journal", from_="2024-02-14", to="2024-02-14", currency="EUR", known_at=book)["lines"]
    assert len(as_known) == 3  # Dr 1000 / Cr 4000 / Cr 1100 of the first receipt

    first = ok(report, "journal", from_="2024-01-01", to="2024-12-31", currency="EUR", disbursement_id="D1",
               limit="4")
    assert len(first["lines"]) == 4 and first["next_cursor"]
    rest = ok(report, "journal", from_="2024-01-01", to="2024-12-31", currency="EUR", disbursement_id="D1",
              limit="500", cursor=first["next_cursor"])
    every = first["lines"] + rest["lines"]
    assert len({line["line_id"] for line in every}) == len(every) == 4 + 3 + 3 + 6 + 2
    assert sum(line["debit"] for line in every) == sum(line["credit"] for line in every)


def check_redelivered_stream_records_post_nothing_twice(book, report, stream_pump):
    before = ok(report, "balance-sheet", as_of="2024-06-30", currency="EUR")
    lines = ok(report, "journal", from_="2024-01-01", to="2024-12-31", currency="EUR", limit="500")["lines"]
    portfolios = [ok(report, "portfolio", as_of="2024-05-31", currency="EUR", known_at=known_at)
                  for known_at in (book, system_time())]
    clients = ok(report, "analytics/clients", from_="2024-01-01", to="2024-12-31", known_at=portfolios[1]["known_at"])
    stream_pump.deliver(list(book.delivered))  # Lambda delivers the very same records again
    stream_pump.drain()
    stream_pump.deliver(list(reversed(book.delivered)))  # and again, out of order
    stream_pump.drain()
    assert {**ok(report, "balance-sheet", as_of="2024-06-30", currency="EUR"), "known_at": None} == \
        {**before, "known_at": None}
    assert [ok(report, "portfolio", as_of="2024-05-31", currency="EUR", known_at=p["known_at"])
            for p in portfolios] == portfolios
    assert ok(report, "analytics/clients", from_="2024-01-01", to="2024-12-31", known_at=clients["known_at"]) == clients
    assert clients["summary"] == {"additions": 2, "removals": 1, "changes": 1, "total_changes": 4}
    assert ok(report, "journal", from_="2024-01-01", to="2024-12-31", currency="EUR", limit="500")["lines"] == lines


def test_bad_parameters_are_listed_in_one_problem(tables, report):
    status, _, problem = report("income-statement", from_="2024-02-30", to="2024-01-01", currency="XXY")
    assert (status, problem["status"]) == (400, 400)
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {("from", "invalid-date"),
                                                                    ("currency", "invalid-currency")}
    status, _, problem = report("cash-flow", from_="2024-03-01", to="2024-01-01")
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {("from", "date-order"), ("currency", "required")}
    status, _, problem = report("balance-sheet", currency="EUR")
    assert (status, problem["errors"][0]["field"]) == (400, "as_of")
    status, _, problem = report("journal", from_="2024-01-01", to="2024-01-31", currency="EUR", account="3100")
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {("account", "unknown-account")}
    status, _, problem = report("balance-sheet", as_of="2024-01-01", currency="EUR", known_at="yesterday")
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {("known_at", "invalid-date")}
    status, _, body = report("analytics/clients", from_="0800-02-29", to="6408-02-29",
                             known_at="0840-02-29T11:02:05-07:58")
    assert (status, body["known_at"]) == (200, "0840-02-29T19:00:05.000000Z")  # a year before 1000 padded
    status, _, body = report("cash-flow", from_="0001-01-01", to="9999-12-31", currency="EUR")
    assert (status, body["beginning_balance"]) == (200, 0)  # nothing before the first day
    assert report("balance-sheet", as_of="0001-01-15", currency="EUR")[0] == 200


def check_an_ingest_only_key_is_refused_and_tenants_never_mix(book, report):
    status, _, problem = report("balance-sheet", as_of="2024-06-30", currency="EUR", scopes="ingest")
    assert (status, problem["status"]) == (403, 403)
    other = ok(report, "balance-sheet", as_of="2024-06-30", currency="EUR", tenant="t2")
    assert other["balance_check"]["assets_total"] == 0
    assert ok(report, "portfolio", as_of="2024-06-30", currency="EUR", tenant="t2")["totals"]["disbursements"] == 0
    assert ok(report, "journal", from_="2024-01-01", to="2024-12-31", currency="EUR", tenant="t2")["lines"] == []


def check_etags_304_and_immutable_past_answers(book, report):
    status, headers, body = report("balance-sheet", as_of="2024-06-30", currency="EUR")
    assert headers["Cache-Control"] == "private, no-cache" and headers["ETag"].startswith('"')
    status, _, _ = report("balance-sheet", as_of="2024-06-30", currency="EUR", headers={"If-None-Match": headers["ETag"]})
    assert status == 304  # the figures as known now have not changed since
    status, headers_now, _ = report("balance-sheet", as_of="2024-06-30", currency="EUR",
                                    known_at=body["known_at"])
    assert headers_now["Cache-Control"] == "private, no-cache"  # too recent to be settled

    settled = {"as_of": "2024-06-30", "currency": "EUR", "known_at": "2025-01-01T00:00:00Z"}
    status, headers, _ = report("balance-sheet", **settled)
    assert (status, headers["Cache-Control"]) == (200, "private, max-age=31536000, immutable")
    status, again, body = report("balance-sheet", headers={"If-None-Match": headers["ETag"]}, **settled)
    assert (status, body, again["ETag"]) == (304, None, headers["ETag"])
    status, _, _ = report("balance-sheet", headers={"If-None-Match": '"other"'}, **settled)
    assert status == 200


def test_the_accounting_reports_of_the_hand_worked_book(book, report):
    check_the_balance_sheet_of_the_hand_worked_book(book, report)
    check_the_income_statement_and_its_memo(book, report)
    check_the_cash_flow_splits_each_entry_and_ends_at_balance_sheet_cash(book, report)


def test_the_portfolio_and_client_analytics_of_the_hand_worked_book(book, report):
    check_the_portfolio_ages_the_book_in_business_time(book, report)
    check_client_analytics_list_the_registry_movements(book, report)


def test_the_journal_of_the_hand_worked_book_is_written_once(book, report, stream_pump):
    check_the_journal_drills_down_to_the_lines_and_their_causes(book, report)
    check_redelivered_stream_records_post_nothing_twice(book, report, stream_pump)


def test_scopes_tenants_and_caching_over_the_hand_worked_book(book, report):
    check_an_ingest_only_key_is_refused_and_tenants_never_mix(book, report)
    check_etags_304_and_immutable_past_answers(book, report)


def test_a_corrected_disbursement_date_moves_the_loan_to_its_new_day(call_ingest, stream_pump, report):
    for body in (client("C1"),
                 loan("D1", disbursement_amount=D("1000"), upfront_fee=D("20"), disbursement_date="2024-01-15",
                      maturity_date="2025-01-15"),
                 loan("D1", step="update", disbursement_date="2024-02-01")):
        status, _, answer = call_ingest(body)
        assert status == 200, answer
    stream_pump.drain()

    def loans_on(day: str) -> D:
        return balances(ok(report, "balance-sheet", as_of=day, currency="EUR"))["1100"]

    assert (loans_on("2024-01-31"), loans_on("2024-02-01")) == (0, D("1020"))
    january = ok(report, "cash-flow", from_="2024-01-01", to="2024-01-31", currency="EUR")
    assert january["investing"] == {"inflows": 0, "outflows": 0, "net": 0}
    portfolio = ok(report, "portfolio", as_of="2024-01-31", currency="EUR")
    assert portfolio["totals"] == {"disbursements": 0, "outstanding": 0}


def test_a_past_answer_is_immutable_only_once_the_settling_window_has_passed(tables, report, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from ledgerline.api import report_routes

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(report_routes, "_now", lambda: now)

    def cache_control(known_at: datetime) -> str:
        stamp = known_at.isoformat().replace("+00:00", "Z")
        _, headers, _ = report("balance-sheet", as_of="2024-06-30", currency="EUR", known_at=stamp)
        return headers["Cache-Control"]

    window = report_routes.SETTLED_AFTER
    assert window == timedelta(minutes=15)  # three times the worker's iterator-age alarm (docs/reports.md)
    assert cache_control(now - window) == "private, max-age=31536000, immutable"
    assert cache_control(now - window + timedelta(seconds=1)) == "private, no-cache"  # the worker may lag
    assert cache_control(now + timedelta(days=1)) == "private, no-cache"  # the future is not known yet
