"""Benchmark of the reports over moto: DynamoDB calls and items read per report, and time.

Builds books of 1,000 and 10,000 source events (10 % loans each with its client, 80 % paid
installments, 10 % revenue and cost operations) spread over the valid days of 2024, written
with the items ingest and the worker's journal step write (see `BookWriter`). Each report
is then read through the real tables handler. Times are ratios to a floor measured in the same
run (one moto GetItem). `K` is the system time when 90 % of the book was stored.

Run: `python -m bench.reports [events ...]` (default 1000 10000); `python -m bench.reports --check
[events]` builds a small book (200) both with `BookWriter` and through the worker's real step and
checks that every report agrees.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import botocore.client

from bench.common import median_seconds, skip_moto_transaction_copy

CALLS: Counter[str] = Counter()
ITEMS: Counter[str] = Counter()
_real_call = botocore.client.BaseClient._make_api_call
TENANT = "bench"


def _counting_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
    response = _real_call(self, operation, params)
    if self.meta.service_model.service_name == "dynamodb":
        CALLS[operation] += 1
        ITEMS[operation] += response.get("Count", 1 if "Item" in response else 0)
    return response


class BookWriter:
    """Writes a book with the items ingest and the worker's journal step write, batched.

    moto copies the whole table for every TransactWriteItems, and its single-item calls are slow
    enough that building a book of 10,000 events call by call would take hours on a shared
    machine. So the same items are computed here with the same functions (record_items, the
    posting rules, line_items, the totals' movements) and written with BatchWriteItem: the
    totals and positions once, with their final sums. Building is not measured.
    """

    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []
        self.current: dict[tuple[str, str], dict[str, Any]] = {}
        self.positions: dict[str, Any] = {}
        self.totals: dict[tuple[str, str], Any] = {}
        self.facts: dict[str, dict[str, Any]] = {}

    def write(self, table: str, record_id: str, record: dict[str, Any], kind: str | None = None,
              effective_at: str | None = None) -> None:
        from ledgerline.domain.journal import Position, Version, position_change, post, receivable_account
        from ledgerline.domain.reports import Movement, client_movement, receivable_facts, version_facts
        from ledgerline.store import client_movements, journal

        previous, item = self.store_record(table, record_id, record, effective_at)
        new = Version.from_item(item)
        if table == "clients":
            movement = client_movement(previous["record"] if previous else None, new)
            self.puts.append(client_movements.movement_item(TENANT, movement, new.version, new.system_from))
            return
        disbursement_id = record.get("disbursement_id")
        position = self.positions.get(disbursement_id, Position())
        old = Version.from_item(previous) if previous else None
        lines = post(old, new, position, kind)
        if disbursement_id:
            self.positions[disbursement_id] = position.plus(position_change(lines, receivable_account(kind)))
            facts = self.facts.setdefault(disbursement_id, {})
            facts.update(version_facts(old, new))
            facts.update(receivable_facts(lines))
        self.puts += [put["Put"]["Item"] for put in journal.line_items(TENANT, lines)]
        shard = journal.shard_of(TENANT, disbursement_id or record_id)
        for sort_key, moved in journal.total_movements(shard, lines).items():
            self.totals.setdefault(("EUR", sort_key), Movement()).add(moved)

    def store_record(self, table: str, record_id: str, record: dict[str, Any],
                     effective_at: str | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """The items ingest writes for a version (queued); returns the previous and the new current item."""
        from ledgerline.domain.category import RecordWrite
        from ledgerline.settings import get_settings
        from ledgerline.store.keys import system_time
        from ledgerline.store.records import EventContext, from_attributes, record_items

        previous = self.current.get((table, record_id))
        version = int(previous["version"]) if previous else 0
        context = EventContext(TENANT, f"ev_{table}_{record_id}_{version + 1}", "bench", effective_at,
                               effective_at is not None)
        write = RecordWrite(table, record_id, record, version, sorted(record), superseded=previous)
        *version_puts, current_update = record_items(get_settings().records_table, context, write, system_time())
        update = current_update["Update"]
        names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
        current = {names[f"#s{i}"]: values[f":s{i}"] for i in range(len(values)) if f"#s{i}" in names}
        self.puts += [*(put["Put"]["Item"] for put in version_puts), {**update["Key"], **current}]
        item = from_attributes(current)
        self.current[(table, record_id)] = item
        return previous, item

    def flush(self) -> None:
        from ledgerline import aws
        from ledgerline.settings import get_settings
        from ledgerline.store import journal, portfolio
        from ledgerline.store.records import to_attributes

        for (currency, sort_key), moved in self.totals.items():
            self.puts.append({"PK": {"S": journal.totals_pk(TENANT, currency)}, "SK": {"S": sort_key},
                              **to_attributes(journal.movement_attributes(moved))})
        for disbursement_id, position in self.positions.items():
            self.puts.append({**journal.position_key(TENANT, disbursement_id),
                              **to_attributes({"receivable": position.receivable})})
        for disbursement_id, facts in self.facts.items():
            self.puts.append({**portfolio.facts_key(TENANT, "EUR", disbursement_id), **to_attributes(facts)})
        client, table = aws.dynamodb(), get_settings().records_table
        for start in range(0, len(self.puts), 25):
            request = {table: [{"PutRequest": {"Item": item}} for item in self.puts[start:start + 25]]}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        self.puts.clear()


class WorkerBook(BookWriter):
    """The same book through the worker's real reports step (`posting.journal_change`: lines,
    totals, positions, facts, movements), one change at a time. Slow under moto (a transaction
    copies the whole table), so only for a small book: `--check` builds one both ways and
    compares every report."""

    def write(self, table: str, record_id: str, record: dict[str, Any], kind: str | None = None,
              effective_at: str | None = None) -> None:
        from ledgerline import posting

        previous, item = self.store_record(table, record_id, record, effective_at)
        self.flush()  # the record is stored before the worker sees its change, as on the stream
        posting.journal_change(TENANT, item, previous)


def build(events: int, book: BookWriter | None = None) -> str:
    """Write the book; returns K, the system time after 90 % of its events."""
    from ledgerline.store.keys import system_time

    book = book or BookWriter()
    loans = max(1, events // 10)
    known_at = ""
    written = 0
    for n in range(loans):
        start = date(2024, 1, 1) + timedelta(days=n * 300 // loans)
        client_id, loan_id = f"C{n:05d}", f"D{n:05d}"
        book.write("clients", client_id, {"client_id": client_id, "name": f"Client {n}",
                                          "client_type": "individual", "deleted": False},
                   effective_at=f"{start.isoformat()}T00:00:00Z")
        book.write("disbursements", loan_id, {
            "disbursement_id": loan_id, "kind": "loan", "currency": "EUR", "disbursement_amount": Decimal(8000),
            "upfront_fee": Decimal(80), "gross_value": Decimal(8080), "total_expected_margin": Decimal(800),
            "client_id": client_id, "disbursement_date": start.isoformat(),
            "maturity_date": (start + timedelta(days=365)).isoformat(), "deleted": False}, "loan")
        for k in range(8):
            due = min(start + timedelta(days=30 * (k + 1)), date(2024, 12, 31)).isoformat()
            payment_id = f"P{n:05d}-{k}"
            paid = (n + k) % 9 != 0  # every ninth installment is still expected: some loans are late
            book.write("payments", payment_id, {
                "payment_id": payment_id, "disbursement_id": loan_id, "status": "paid" if paid else "expected",
                "amount": Decimal(1100), "principal_amount": Decimal(1000), "interest_amount": Decimal(100),
                "currency": "EUR", "due_date": due, "installment_number": k + 1, "source": "client",
                "deleted": False, **({"payment_date": due} if paid else {})}, "loan")
        operation_id = f"O{n:05d}"
        book.write("operations", operation_id, {
            "operation_id": operation_id, "operation_type": "cost" if n % 2 else "revenue", "amount": Decimal(25),
            "currency": "EUR", "operation_date": start.isoformat(), "deleted": False})
        written += 10
        if not known_at and written >= events * 9 // 10:
            time.sleep(0.001)
            known_at = system_time()
    book.flush()
    return known_at or system_time()


def check(events: int = 200) -> None:
    """Build a small book with BookWriter and through the worker's real step; every report must agree."""
    from moto import mock_aws

    skip_moto_transaction_copy()  # one writer, each change once: no transaction is refused
    answers = []
    for book in (BookWriter(), WorkerBook()):
        with mock_aws():
            answers.append(read_all(book, events))
    for name in answers[0]:
        assert answers[0][name] == answers[1][name], f"{name}: the batched book differs from the worker's"
    print(f"{events} events: the batched book and the worker's agree on {len(answers[0])} reports")


def fresh_tables() -> Any:
    """Empty tables in the current moto account; returns the settings naming them."""
    from ledgerline import aws
    from ledgerline.settings import get_settings
    from ledgerline.store.schema import create_tables

    get_settings.cache_clear()
    aws.reset()
    settings = get_settings()
    create_tables(aws.dynamodb(), settings.records_table, settings.idempotency_table)
    return settings


def read_all(book: BookWriter, events: int) -> dict[str, Any]:
    """Every report of the bench over a book built with `book` (times and system times left out)."""
    import functions.tables.handler as tables_handler
    from ledgerline.domain.jsonio import loads
    from tests.builders import FakeLambdaContext, api_event

    fresh_tables()
    known_at = build(events, book)
    answers = {}
    for name, (route, query) in scenarios(known_at).items():
        event = api_event("GET", f"/api/reports/{route}", scopes="read", tenant=TENANT, query=query)
        body = loads(tables_handler.handler(event, FakeLambdaContext())["body"])
        body.pop("known_at")
        body.pop("next_cursor", None)  # holds a key with system times
        for line in body.get("lines", ()):
            line.pop("system_from")
        answers[name] = body
    return answers


def scenarios(known_at: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Each measured report: its route and query."""
    year = {"from": "2024-01-01", "to": "2024-12-31"}
    period = {"from": "2024-02-10", "to": "2024-11-20", "currency": "EUR"}
    return {
        "balance sheet as of 2024-12-31": ("balance-sheet", {"as_of": "2024-12-31", "currency": "EUR"}),
        "balance sheet as of 2024-06-15": ("balance-sheet", {"as_of": "2024-06-15", "currency": "EUR"}),
        "balance sheet, known_at K": ("balance-sheet", {"as_of": "2024-12-31", "currency": "EUR",
                                                        "known_at": known_at}),
        "income statement 2024-02-10..2024-11-20": ("income-statement", period),
        "cash flow 2024-02-10..2024-11-20": ("cash-flow", period),
        "journal, one page of 100": ("journal", {**year, "currency": "EUR", "limit": "100"}),
        "portfolio as of 2024-12-31": ("portfolio", {"as_of": "2024-12-31", "currency": "EUR"}),
        "portfolio as of 2024-06-30, known_at K": ("portfolio", {"as_of": "2024-06-30", "currency": "EUR",
                                                                 "known_at": known_at}),
        "client analytics 2024": ("analytics/clients", year),
    }


def main(sizes: list[int], rounds: int = 5) -> None:
    from moto import mock_aws

    botocore.client.BaseClient._make_api_call = _counting_call  # type: ignore[method-assign]
    print(f"Median of {rounds} requests per report; floor = one moto GetItem; K = when 90 % was stored.\n")
    print("| events | report | DynamoDB calls | items read | time / floor |")
    print("| --- | --- | --- | --- | --- |")
    for size in sizes:
        with mock_aws():
            bench_book(size, rounds)


def bench_book(size: int, rounds: int) -> None:
    import functions.tables.handler as tables_handler
    from ledgerline import aws
    from tests.builders import FakeLambdaContext, api_event

    settings = fresh_tables()
    started = time.perf_counter()
    known_at = build(size)
    built = time.perf_counter() - started
    floor = median_seconds(lambda: aws.dynamodb().get_item(
        TableName=settings.records_table, Key={"PK": {"S": "x"}, "SK": {"S": "v0"}}), 50)

    def read(route: str, query: dict[str, str]) -> None:
        event = api_event("GET", f"/api/reports/{route}", scopes="read", tenant=TENANT, query=query)
        response = tables_handler.handler(event, FakeLambdaContext())
        assert response["statusCode"] == 200, response["body"]

    for name, (route, query) in scenarios(known_at).items():
        CALLS.clear()
        ITEMS.clear()
        repeat = rounds if size <= 1000 else 3  # moto pages slowly through the larger book's partitions
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            read(route, query)
            timings.append(time.perf_counter() - start)
        calls = ", ".join(f"{op} {n / repeat:g}" for op, n in sorted(CALLS.items()))
        print(f"| {size:,} | {name} | {calls} | {sum(ITEMS.values()) / repeat:g} | "
              f"{statistics.median(timings) / floor:.1f}x |")
    print(f"(building the book of {size:,} events took {built:.0f} s)\n", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"]:
        check(*(int(arg) for arg in sys.argv[2:]))
    else:
        main([int(arg) for arg in sys.argv[1:]] or [1000, 10000])
