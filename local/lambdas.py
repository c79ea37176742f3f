"""Run the real Lambda handlers in-process, as API Gateway and Lambda would.

Each function gets a small pool of independent copies of its handler module, each serving one
invocation at a time, like warm Lambda execution environments: module state (the resolver's
current event, Powertools' idempotency config) is never shared by two concurrent requests.
"""

from __future__ import annotations

import importlib.util
import itertools
import queue
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
_copies = itertools.count()


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


def load_handler_module(function: str) -> ModuleType:
    """A fresh, independent copy of functions/<function>/handler.py."""
    path = FUNCTIONS_DIR / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"lambda_{function}_{next(_copies)}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaPool:
    def __init__(self, function: str, size: int = 4) -> None:
        self.function = function
        self._idle: queue.Queue[ModuleType] = queue.Queue()
        for _ in range(size):
            self._idle.put(load_handler_module(function))

    def invoke(self, event: dict[str, Any]) -> Any:
        module = self._idle.get()
        try:
            return module.handler(event, LocalContext(self.function))
        finally:
            self._idle.put(module)
