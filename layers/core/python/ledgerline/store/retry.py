"""The one retry loop for optimistic-lock writes: reload, decide again, commit."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from ledgerline.observability import count, logger
from ledgerline.settings import get_settings
from ledgerline.store.records import WriteConflict

T = TypeVar("T")


class RetryNow(Exception):
    """Raised by an attempt that learned from its conflict what to do differently: retry at once."""


def retry_on_conflict(
    attempt: Callable[[], T],
    gave_up: Callable[[], Exception],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `attempt` (which reads, decides and commits) until it commits, at most
    `max_write_attempts` times. After a WriteConflict it waits a jittered, growing delay
    (at most 0.4 s); after RetryNow it goes again at once. Then raises `gave_up()`."""
    for number in range(get_settings().max_write_attempts):
        try:
            return attempt()
        except RetryNow:
            continue
        except WriteConflict as conflict:
            logger.info("write conflict, retrying", extra={"attempt": number + 1, "reasons": conflict.args})
            count("WriteConflicts")
            sleep(random.uniform(0, min(0.4, 0.005 * 2**number)))
    raise gave_up()
