"""Run the real Lambda handlers in-process, as API Gateway and Lambda would.

Powertools' event handler keeps the current event in class-level state shared by every
resolver in a process, so one process can only serve one HTTP invocation at a time, exactly
as one Lambda execution environment does. The local stack therefore runs invocations one at
a time; the concurrency tests drive the idempotent ingest path below the resolver instead.
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LocalContext:
    """The parts of the Lambda context the handlers use."""

    function_name: str
    timeout_seconds: float = 29.0
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


class Lambdas:
    """The handlers of the named functions, invoked one at a time."""

    def __init__(self, functions: set[str]) -> None:
        self._modules = {name: importlib.import_module(f"functions.{name}.handler") for name in functions}
        self._lock = threading.Lock()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        with self._lock:
            return self._modules[function].handler(event, LocalContext(function))
