"""What the portfolio and client analytics read instead of records: facts stamped with their
system time, so one item answers "as known at K" exactly, whatever order they were written in."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerline.domain.journal import LOANS, Position, Version, position_change, post
from ledgerline.domain.reports import (
    LoanFacts,
    client_analytics,
    client_movement,
    loan_known_at,
    receivable_facts,
    version_facts,
)


def stamp(n: int) -> str:
    return f"2026-03-01T10:00:{n // 1000:02d}.{n % 1000:06d}Z"


def loan(**fields: Any) -> dict[str, Any]:
    return {"disbursement_id": "D1", "kind": "loan", "currency": "EUR", "disbursement_amount": D("1000"),
            "gross_value": D("1000"), "disbursement_date": "2024-01-10", "deleted": False} | fields


def payment(payment_id: str, **fields: Any) -> dict[str, Any]:
    return {"payment_id": payment_id, "disbursement_id": "D1", "status": "pending", "amount": D("300"),
            "principal_amount": D("250"), "interest_amount": D("50"), "currency": "EUR",
            "due_date": "2024-02-10", "deleted": False} | fields


# One change of the book: which record, and how its next version differs.
CHANGES = st.one_of(
    st.tuples(st.just("payment"), st.sampled_from(["P1", "P2", "P3"]), st.sampled_from([
        {"status": "pending"}, {"status": "paid", "payment_date": "2024-02-12"},
        {"status": "paid", "payment_date": "2024-03-20", "amount": D("200"), "principal_amount": D("150")},
        {"status": "canceled"}, {"due_date": "2024-03-10"}, {"note": "no portfolio fact"}, {"deleted": True},
    ])),
    st.tuples(st.just("loan"), st.just("D1"), st.sampled_from([
        {"disbursement_amount": D("0")}, {"disbursement_amount": D("1200"), "gross_value": D("1200")},
        {"disbursement_date": "2024-01-20"}, {"deleted": True}, {"maturity_date": "2025-01-10"},
    ])),
)


def replay(changes: list[tuple[str, str, dict[str, Any]]]) -> tuple[list[Version], list[Any], dict[str, Any]]:
    """Every version (stored one microsecond apart), every line posted, and the facts written."""
    versions: list[Version] = []
    lines: list[Any] = []
    facts: dict[str, Any] = {}
    current: dict[str, Version] = {}
    position = Position()

    def write(table: str, record_id: str, record: dict[str, Any], valid: str | None = None) -> None:
        nonlocal position
        old = current.get(record_id)
        if old is not None and old.deleted:
            return
        system = stamp(len(versions) + 1)
        new = Version(table, record_id, old.version + 1 if old else 1, f"ev{len(versions)}", valid or system,
                      system, record)
        posted = post(old, new, position, "loan")
        position = position.plus(position_change(posted, LOANS))
        facts.update(version_facts(old, new))
        facts.update(receivable_facts(posted))
        versions.append(new)
        lines.extend(posted)
        current[record_id] = new

    write("disbursements", "D1", loan())
    for number in (1, 2, 3):
        write("payments", f"P{number}", payment(f"P{number}", due_date=f"2024-0{number + 1}-10"))
    for kind, record_id, fields in changes:
        table = "payments" if kind == "payment" else "disbursements"
        before = current[record_id].record
        write(table, record_id, before | fields, valid="2024-05-01T00:00:00Z" if "disbursement_amount" in fields
              else None)
    return versions, lines, facts


def reference(versions: list[Version], lines: list[Any], day: str, known_at: str) -> LoanFacts:
    """The loan as known at K, straight from its versions and lines (what reading the records gave)."""
    known = [v for v in versions if v.system_from <= known_at]
    loans = [v for v in known if v.table == "disbursements"]
    latest: dict[str, dict[str, Any]] = {}
    for v in known:
        if v.table == "payments":
            latest[v.id] = v.record
    return LoanFacts(
        "D1", loans[-1].record["disbursement_date"], next((v.valid_from[:10] for v in loans if v.deleted), None),
        next((v.valid_from[:10] for v in loans if v.record["disbursement_amount"] == 0), None),
        tuple({"due_date": p["due_date"], "payment_date": p.get("payment_date"), "status": p["status"],
               "deleted": p["deleted"]} for p in latest.values()),
        sum((line.net for line in lines if line.account == LOANS and line.system_from <= known_at
             and line.valid_date <= day), D(0)))


@settings(max_examples=60, deadline=None)
@given(st.lists(CHANGES, max_size=8), st.sampled_from(["2024-01-31", "2024-02-29", "2024-04-30", "2024-12-31"]),
       st.integers(min_value=1, max_value=15), st.randoms(use_true_random=False))
def test_the_facts_as_known_at_k_are_the_records_as_known_at_k_in_any_write_order(changes, day, cut, shuffle):
    versions, lines, facts = replay(changes)
    known_at = stamp(min(cut, len(versions)))
    items = list(facts.items())
    shuffle.shuffle(items)  # stream shards deliver changes of different records in any order

    assert loan_known_at("D1", dict(items), day, known_at) == reference(versions, lines, day, known_at)


def test_a_loan_not_yet_stored_at_k_is_not_in_the_portfolio_as_known_then():
    _, _, facts = replay([])
    assert loan_known_at("D1", facts, "2024-12-31", "2026-03-01T10:00:00.000000Z") is None


def test_a_change_the_portfolio_does_not_read_writes_no_fact():
    first = Version("payments", "P1", 1, "e1", stamp(1), stamp(1), payment("P1"))
    noted = Version("payments", "P1", 2, "e2", stamp(2), stamp(2), payment("P1", note="called"))
    assert version_facts(first, noted) == {}
    paid = Version("payments", "P1", 3, "e3", stamp(3), stamp(3), payment("P1", status="paid"))
    assert list(version_facts(noted, paid)) == ["p~P1~0000000003"]


def test_client_movements_are_additions_changes_and_removals_on_their_valid_day():
    created = Version("clients", "C1", 1, "e1", "2024-01-02T00:00:00Z", stamp(1),
                      {"client_id": "C1", "name": "Ada", "version": 1, "deleted": False})
    renamed = Version("clients", "C1", 2, "e2", "2024-02-10T00:00:00Z", stamp(2),
                      {"client_id": "C1", "name": "Ada King", "version": 2, "deleted": False})
    removed = Version("clients", "C1", 3, "e3", stamp(3), stamp(3),
                      {"client_id": "C1", "name": "Ada King", "version": 3, "deleted": True})
    movements = [client_movement(None, created), client_movement(created.record, renamed),
                 client_movement(renamed.record, removed)]

    assert [(m["date"], m["change_type"], m["fields"]) for m in movements] == [
        ("2024-01-02", "addition", {"client_id": {"old": None, "new": "C1"}, "name": {"old": None, "new": "Ada"}}),
        ("2024-02-10", "change", {"name": {"old": "Ada", "new": "Ada King"}}),
        ("2026-03-01", "removal", {}),
    ]
    assert client_analytics(movements)["summary"] == {"additions": 1, "removals": 1, "changes": 1,
                                                      "total_changes": 3}

