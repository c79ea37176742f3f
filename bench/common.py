"""What every benchmark shares: the import path and a fake AWS environment, and the floor timer.

Import this first: it must run before anything creates an AWS client.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]

from ledgerline import settings as env  # noqa: E402

os.environ.update({
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1", "POWERTOOLS_TRACE_DISABLED": "1", "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR", env.CURSOR_SECRET: "bench-cursor-secret",
    env.EVENT_BUS: "bench-bus", env.TABLE: "bench-records", env.IDEMPOTENCY_TABLE: "bench-idempotency",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
warnings.filterwarnings("ignore", message="No application metrics to publish")


def median_seconds(action: Callable[[], Any], rounds: int) -> float:
    """Median wall time of `action` over `rounds` runs (the floor the figures are divided by)."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def skip_moto_transaction_copy() -> None:
    """moto deep-copies every table a transaction touches, stream included, to roll back on a
    failed condition: O(table) per transaction, which turns a benchmark that writes through
    transactions into a benchmark of moto. Only for a single writer whose transactions never
    fail (nothing to roll back). Only moto is patched, never product code."""
    import copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    class _Copy:
        @staticmethod
        def deepcopy(value: Any, *args: Any) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, *args)

    models.copy = _Copy  # type: ignore[attr-defined]
