"""Logger, Metrics and Tracer: one neutral place every module imports them from."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger(service="ledgerline")
metrics = Metrics(namespace="Ledgerline", service="ledgerline")
tracer = Tracer(service="ledgerline")


def count(name: str, value: float = 1) -> None:
    """Add to a Count metric, flushed by `@metrics.log_metrics` at the end of the invocation.

    Skipped when metrics are disabled (local stack, tests): Powertools then never clears its
    buffer and prints it to stdout every 100 values.
    """
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit="Count", value=value)
