"""The totals a report reads: every valid day of a span counted exactly once, by day or by month."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ledgerline.store.journal import total_ranges

DAYS = st.dates(min_value=date(2023, 11, 1), max_value=date(2025, 2, 28))


def times_counted(day: date, ranges: list[tuple[str, str]]) -> int:
    """How many ranges hold the day's total or its month's total (any shard)."""
    keys = (f"D#{day.isoformat()}#3", f"M#{day.isoformat()[:7]}#3")
    return sum(1 for low, high in ranges for key in keys if low <= key <= high)


@given(DAYS, DAYS)
def test_a_span_reads_each_of_its_days_once_and_nothing_else(a, b):
    first, last = min(a, b), max(a, b)
    ranges = total_ranges(first, last)
    assert len(ranges) <= 3
    day = date(2023, 10, 1)
    while day <= date(2025, 3, 31):
        assert times_counted(day, ranges) == (1 if first <= day <= last else 0), (day, ranges)
        day += timedelta(days=1)


@given(DAYS)
def test_since_inception_reads_whole_months_then_the_days_of_the_last_one(last):
    ranges = total_ranges(None, last)
    assert len(ranges) == 2
    day = date(2020, 1, 1)
    while day <= date(2025, 3, 31):
        assert times_counted(day, ranges) == (1 if day <= last else 0), (day, ranges)
        day += timedelta(days=31 if day < date(2023, 6, 1) else 1)


def test_the_first_days_a_date_can_name_have_no_months_before_them():
    assert total_ranges(None, date(1, 1, 15)) == [("D#0001-01-01", "D#0001-01-15#~")]
    assert total_ranges(None, date(9999, 12, 31))[0] == ("M#", "M#9999-11#~")
