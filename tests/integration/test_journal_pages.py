"""Paging the journal: a change's lines of one day share an item, yet pages count lines.

Every page size, with and without each filter, must give back exactly the lines of one
unpaged read, in order, none twice and none lost, whether a page ends between items or
inside one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerline import aws
from ledgerline.domain.journal import Line
from ledgerline.settings import get_settings
from ledgerline.store import journal
from ledgerline.store.records import AlreadyWritten, to_attributes
from ledgerline.store.schema import PK, SK

TENANT = "t1"


def line(change: int, n: int, day: str, account: str, disbursement: str | None, debit: int, credit: int) -> Line:
    return Line(line_id=f"c{change:03d}-{n}", currency="EUR", valid_date=day,
                system_from=f"2024-06-{change % 28 + 1:02d}T00:00:00.000000Z", account=account,
                debit=Decimal(debit), credit=Decimal(credit), disbursement_id=disbursement, memo="m",
                cause={"table": "payments", "id": f"P{change}", "version": 1}, entry=1)


def book() -> list[list[Line]]:
    """Changes of 1 to 5 lines, over a few days, some spanning two days, some of no disbursement."""
    changes = []
    for change in range(12):
        disbursement = None if change % 5 == 4 else f"D{change % 3}"
        day = f"2024-03-{change % 4 + 1:02d}"
        lines = [line(change, n, day, ("1000", "1100", "4000")[n % 3], disbursement, 10 * (n + 1), 0)
                 for n in range(change % 5 + 1)]
        if change % 3 == 0:  # a correction: a reversal on another day
            lines.append(line(change, 9, "2024-03-07", "1000", disbursement, 0, 5))
        changes.append(lines)
    return changes


@pytest.fixture
def stored(tables):
    for lines in book():
        journal.write(TENANT, lines, journal.shard_of(TENANT, lines[0].disbursement_id or "op"), None)


def pages(limit: int, **filters) -> list[list[str]]:
    found, start = [], None
    while True:
        page = journal.lines_page(TENANT, "EUR", date(2024, 3, 1), date(2024, 3, 31), limit=limit,
                                  start_key=start, **{"account": None, "disbursement_id": None, "known_at": None,
                                                      **filters})
        assert len(page.lines) <= limit
        found.append([line.line_id for line in page.lines])
        start = page.last_key
        if start is None:
            return found


@pytest.mark.parametrize("filters", [{}, {"account": "1000"}, {"disbursement_id": "D1"},
                                     {"known_at": "2024-06-06T00:00:00.000000Z", "account": "1100"}])
def test_every_page_size_reads_each_line_once_in_order(stored, filters):
    [whole] = pages(500, **filters)
    every = [line for lines in book() for line in lines]
    assert sorted(whole) == sorted(
        line.line_id for line in every
        if line.account == filters.get("account", line.account)
        and line.disbursement_id == filters.get("disbursement_id", line.disbursement_id)
        and line.system_from <= filters.get("known_at", line.system_from))
    for limit in range(1, len(whole) + 2):
        paged = pages(limit, **filters)
        assert [line_id for page in paged for line_id in page] == whole, limit
        assert all(len(page) == limit for page in paged[:-1])


def test_a_redelivered_change_is_refused_whole(stored):
    with pytest.raises(AlreadyWritten):
        journal.write(TENANT, book()[3], 0, None)
    assert len(journal.stored_after(TENANT, "EUR", "2024-01-01T00:00:00.000000Z")) == sum(map(len, book()))


def test_lines_stored_one_item_each_before_they_shared_items_read_the_same(tables):
    """A stage keeps the journal it wrote with an item per line (by valid date and by system
    time); pages, filters and the lines stored after a known_at read those items too, and a
    redelivered old change is still refused whole."""
    old, new = book()[:6], book()[6:]
    for lines in old:
        for one in lines:
            values = to_attributes({"tenant": TENANT, **{name: getattr(one, name) for name in journal._LINE_FIELDS}})
            for pk, sk in ((journal.by_valid_pk(TENANT, "EUR"), f"{one.valid_date}#{one.system_from}#{one.line_id}"),
                           (journal.by_system_pk(TENANT, "EUR"), f"{one.system_from}#{one.line_id}")):
                tables.put_item(TableName=get_settings().records_table, Item={"PK": {"S": pk}, "SK": {"S": sk}, **values})
    for lines in new:
        journal.write(TENANT, lines, 0, None)

    [whole] = pages(500)
    assert sorted(whole) == sorted(line.line_id for lines in book() for line in lines)
    assert [line_id for page in pages(3, account="1000") for line_id in page] == pages(500, account="1000")[0]
    assert len(journal.stored_after(TENANT, "EUR", "2024-01-01T00:00:00.000000Z")) == len(whole)
    with pytest.raises(AlreadyWritten):
        journal.write(TENANT, old[2], 0, None)


def test_a_cursor_issued_as_a_plain_key_goes_on_after_that_item(stored):
    [whole] = pages(500)
    first = journal.lines_page(TENANT, "EUR", date(2024, 3, 1), date(2024, 3, 31), limit=500, start_key=None,
                               account=None, disbursement_id=None, known_at=None)
    query_items = tables_items_by_valid_date()
    after = {PK: query_items[0][PK], SK: query_items[0][SK]}
    rest = journal.lines_page(TENANT, "EUR", date(2024, 3, 1), date(2024, 3, 31), limit=500, start_key=after,
                              account=None, disbursement_id=None, known_at=None)
    served_by_first_item = len(journal.lines_of(query_items[0]))
    assert [line.line_id for line in rest.lines] == whole[served_by_first_item:]
    assert [line.line_id for line in first.lines] == whole


def tables_items_by_valid_date() -> list[dict]:
    return aws.dynamodb().query(TableName=get_settings().records_table, KeyConditionExpression="PK = :pk",
                                ExpressionAttributeValues={":pk": {"S": journal.by_valid_pk(TENANT, "EUR")}},
                                ConsistentRead=True)["Items"]
