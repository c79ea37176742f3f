"""The one optimistic-lock retry loop: back off after a conflict, go again at once after
RetryNow, give up after the configured number of attempts."""

from __future__ import annotations

import pytest

from ledgerline.settings import get_settings
from ledgerline.store.records import WriteConflict
from ledgerline.store.retry import RetryNow, retry_on_conflict


class GaveUp(Exception):
    pass


def attempts_that(*outcomes: object):
    calls = []

    def attempt():
        outcome = outcomes[len(calls)]
        calls.append(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return attempt, calls


def test_a_conflict_is_retried_after_a_short_jittered_wait():
    attempt, calls = attempts_that(WriteConflict(), WriteConflict(), "done")
    waits: list[float] = []

    assert retry_on_conflict(attempt, GaveUp, sleep=waits.append) == "done"
    assert len(calls) == 3 and len(waits) == 2 and all(0 <= w <= 0.4 for w in waits)


def test_retry_now_goes_again_without_waiting():
    attempt, calls = attempts_that(RetryNow(), "done")
    waits: list[float] = []

    assert retry_on_conflict(attempt, GaveUp, sleep=waits.append) == "done"
    assert len(calls) == 2 and waits == []


def test_it_gives_up_after_the_configured_attempts():
    limit = get_settings().max_write_attempts
    attempt, calls = attempts_that(*[WriteConflict()] * limit)

    with pytest.raises(GaveUp):
        retry_on_conflict(attempt, GaveUp, sleep=lambda _: None)
    assert len(calls) == limit


def test_other_errors_are_not_retried():
    attempt, calls = attempts_that(ValueError("broken"), "never")

    with pytest.raises(ValueError):
        retry_on_conflict(attempt, GaveUp, sleep=lambda _: None)
    assert len(calls) == 1
