"""Bitemporal rules on plain version lists: history, as-of, changes."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from ledgerline.domain.temporal import OPEN_END, as_of, changes, history


def version(n: int, valid_from: str, system_from: str, record: dict, changes_: list[str]) -> dict:
    return {"version": n, "previous_version": n - 1 or None, "valid_from": valid_from,
            "system_from": system_from, "changed_by": "key", "event_id": f"ev{n}", "deleted": False,
            "changes": changes_, "record": {**record, "version": n}}


V1 = version(1, "2024-01-01", "2024-01-01T10:00:00.000000Z", {"id": "A", "amount": 100}, ["amount", "id"])
V2 = version(2, "2024-03-01", "2024-03-01T10:00:00.000000Z", {"id": "A", "amount": 100, "ref": "R"}, ["ref"])
# A correction stored in April that took effect in February.
V3 = version(3, "2024-02-01", "2024-04-01T10:00:00.000000Z",
             {"id": "A", "amount": 90, "ref": "R"}, ["amount"])
ALL = [V1, V2, V3]


def test_history_is_newest_first_with_derived_ends():
    entries = history(ALL)
    assert [e["version"] for e in entries] == [3, 2, 1]
    by_version = {e["version"]: e for e in entries}
    assert by_version[1]["valid_to"] == "2024-02-01T00:00:00Z"
    assert by_version[3]["valid_to"] == "2024-03-01T00:00:00Z"
    assert by_version[2]["valid_to"] == OPEN_END
    assert by_version[1]["system_to"] == V2["system_from"] and by_version[3]["system_to"] == OPEN_END


def test_a_correction_changes_answers_only_as_known_after_it_was_stored():
    before = as_of(ALL, "2024-02-15", "2024-03-15T00:00:00Z")
    after = as_of(ALL, "2024-02-15", "2024-05-01T00:00:00Z")
    assert before["record"]["amount"] == 100 and before["version"] == 1
    assert after["record"]["amount"] == 90 and after["version"] == 3
    assert "ref" not in after["record"]  # the March change is not valid yet in February
    assert after["valid_from"] == "2024-02-01" and after["valid_to"] == "2024-03-01T00:00:00Z"


def test_later_valid_dates_fold_every_known_change():
    found = as_of(ALL, "2024-12-31", "2024-12-31T00:00:00Z")
    assert found["record"] == {"id": "A", "amount": 90, "ref": "R", "version": 2,
                               "created_at": V1["system_from"], "updated_at": V2["system_from"]}


def test_nothing_exists_before_creation_or_before_it_was_known():
    assert as_of(ALL, "2023-12-31", "2024-12-31T00:00:00Z") is None
    assert as_of(ALL, "2024-06-01", "2023-01-01T00:00:00Z") is None


def test_a_backdated_change_takes_effect_no_earlier_than_creation():
    backdated = version(2, "2023-06-01", "2024-02-01T00:00:00.000000Z", {"id": "A", "amount": 50}, ["amount"])
    found = as_of([V1, backdated], "2024-01-15", "2024-12-31T00:00:00Z")
    assert found["record"]["amount"] == 50 and found["valid_from"] == "2024-01-01T00:00:00Z"


def test_changes_list_old_and_new_values_in_the_period():
    found = changes(ALL, "2024-02-01T00:00:00Z", None)
    assert [c["version"] for c in found] == [2, 3]
    assert found[0]["changes"] == {"ref": {"old": None, "new": "R"}}
    assert found[1]["changes"] == {"amount": {"old": 100, "new": 90}}
    assert changes(ALL, None, "2024-01-31") == changes([V1], None, None)


@given(st.lists(st.tuples(st.dates(min_value=date(2000, 1, 2)), st.integers(0, 1000)), min_size=1, max_size=8))
def test_as_known_now_the_latest_valid_change_of_each_field_wins(updates):
    """Property: with every version known, a date sees each field's last change in valid order."""
    base = version(1, "2000-01-01", "2000-01-01T00:00:00.000000Z", {"id": "A", "amount": -1}, ["amount", "id"])
    versions = [base] + [
        version(n + 2, day.isoformat(), f"2030-01-01T00:00:{n:02d}.000000Z", {"id": "A", "amount": amount},
                ["amount"])
        for n, (day, amount) in enumerate(updates)
    ]
    probe = max(day for day, _ in updates).isoformat()
    expected = max(((day, n, amount) for n, (day, amount) in enumerate(updates)))[2]
    assert as_of(versions, probe, "2031-01-01T00:00:00Z")["record"]["amount"] == expected


def test_a_date_only_upper_bound_includes_the_whole_day():
    # V2 was stored at 10:00 on 2024-03-01: `to=2024-03-01` includes it, `to=2024-02-29` does not.
    assert [c["version"] for c in changes(ALL, None, "2024-03-01")] == [1, 2]
    assert [c["version"] for c in changes(ALL, None, "2024-02-29")] == [1]
    # A timestamp bound stays exact and inclusive.
    assert [c["version"] for c in changes(ALL, None, V2["system_from"])] == [1, 2]
    assert [c["version"] for c in changes(ALL, None, "2024-03-01T09:59:59Z")] == [1]
    # As known at a date: everything stored by the end of that day.
    assert as_of(ALL, "2024-12-31", "2024-03-01")["version"] == 2
    assert as_of(ALL, "2024-12-31", "2024-02-29")["version"] == 1


def test_an_upper_bound_on_the_last_day_of_the_calendar_includes_everything():
    # 9999-12-31 + 1 day is past what a datetime holds: the bound must not fail (it answered 500).
    assert [c["version"] for c in changes(ALL, None, "9999-12-31")] == [1, 2, 3]
    assert [c["version"] for c in changes(ALL, None, "9999-12-31T23:59:59.999999Z")] == [1, 2, 3]
    assert as_of(ALL, "2024-12-31", "9999-12-31") == as_of(ALL, "2024-12-31", "2100-01-01")
