"""Make moto's DynamoDB serve one request at a time, as DynamoDB's per-request atomicity implies.

moto checks a condition and applies a write in separate steps without a lock, so two threads
can both pass `attribute_not_exists` or `version = :n` and both write: a lost update that real
DynamoDB never allows. The concurrency tests and the local stack rely on DynamoDB's guarantee,
so every DynamoDB action runs under one lock here. Only moto is patched, never product code.

While it is at it: moto backs up a whole table before a transaction by deep-copying it once
per item of the transaction (the same table again and again). The patch makes that one copy
per table per transaction, which behaves the same and keeps big transactions fast.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_PATCHED = False


class _CopyOncePerObject:
    """Stands in for the `copy` module inside moto's DynamoDB models during one transaction."""

    def __init__(self) -> None:
        self._copies: dict[int, tuple[Any, Any]] = {}  # id -> (original kept alive, its copy)

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        if id(obj) not in self._copies:
            self._copies[id(obj)] = (obj, copy.deepcopy(obj))
        return self._copies[id(obj)][1]

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def make_dynamodb_atomic() -> None:
    global _PATCHED
    if _PATCHED:
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.responses import DynamoHandler

    unlocked = DynamoHandler.call_action

    @functools.wraps(unlocked)
    def call_action(self):  # type: ignore[no-untyped-def]
        with _LOCK:
            return unlocked(self)

    transact = models.DynamoDBBackend.transact_write_items

    @functools.wraps(transact)
    def transact_write_items(self, transact_items):  # type: ignore[no-untyped-def]
        with _LOCK:  # already held when called through call_action; re-entrant
            models.copy = _CopyOncePerObject()
            try:
                return transact(self, transact_items)
            finally:
                models.copy = copy

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _PATCHED = True
