"""Make moto's DynamoDB serve one request at a time, as DynamoDB's per-request atomicity implies.

moto checks a condition and applies a write in separate steps without a lock, so two threads
can both pass `attribute_not_exists` or `version = :n` and both write: a lost update that real
DynamoDB never allows. The concurrency tests and the local stack rely on DynamoDB's guarantee,
so every DynamoDB action runs under one lock here. Only moto is patched, never product code.
"""

from __future__ import annotations

import functools
import threading

_LOCK = threading.RLock()
_PATCHED = False


def make_dynamodb_atomic() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from moto.dynamodb.responses import DynamoHandler

    unlocked = DynamoHandler.call_action

    @functools.wraps(unlocked)
    def call_action(self):  # type: ignore[no-untyped-def]
        with _LOCK:
            return unlocked(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    _PATCHED = True
