"""Logger, Metrics and Tracer: one neutral place every module imports them from.

The tracer keeps Powertools' `capture_lambda_handler` / `capture_method` decorators but builds
Powertools' Tracer, and with it the X-Ray SDK (about 95 ms of imports and patching), only on the
first invocation that X-Ray samples. Lambda's active tracing records every invocation and its
cold start (the `Initialization` subsegment) without the SDK; the SDK adds one subsegment per
AWS call to sampled traces. A consequence: Powertools' `ColdStart` annotation marks an
instance's first *sampled* invocation, so read cold starts from `Initialization`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Function = TypeVar("Function", bound=Callable[..., Any])

# Lambda sets the invocation's trace header here; X-Ray decided on sampling upstream.
TRACE_HEADER = "_X_AMZN_TRACE_ID"


def is_sampled() -> bool:
    return "Sampled=1" in os.environ.get(TRACE_HEADER, "")


class LazyTracer:
    """Powertools' Tracer decorators; the Tracer itself is built on the first sampled call."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._tracer: Tracer | None = None

    @property
    def built(self) -> bool:
        return self._tracer is not None

    @property
    def tracer(self) -> Tracer:
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer(service=self._service)
        return self._tracer

    def capture_lambda_handler(self, handler: Function) -> Function:
        return self._when_sampled(handler, lambda tracer: tracer.capture_lambda_handler(handler))

    def capture_method(self, method: Function) -> Function:
        return self._when_sampled(method, lambda tracer: tracer.capture_method(method))

    def _when_sampled(self, function: Function, decorate: Callable[[Tracer], Callable[..., Any]]) -> Function:
        traced: Callable[..., Any] | None = None

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            nonlocal traced
            if not is_sampled():
                return function(*args, **kwargs)
            if traced is None:
                traced = decorate(self.tracer)
            return traced(*args, **kwargs)

        return call  # type: ignore[return-value]


logger = Logger(service="ledgerline")
# The stack sets POWERTOOLS_METRICS_NAMESPACE to Ledgerline/<stage>, so stages never merge.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Ledgerline", service="ledgerline")
tracer = LazyTracer(service="ledgerline")


def count(name: str, value: float = 1) -> None:
    """Add to a Count metric, flushed by `@metrics.log_metrics` at the end of the invocation.

    Skipped when metrics are disabled (local stack, tests): Powertools then never clears its
    buffer and prints it to stdout every 100 values.
    """
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit="Count", value=value)
