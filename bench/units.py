"""DynamoDB's billing arithmetic: item sizes, request units, index writes. Pure; no AWS.

Used by `bench/cost.py` to price what the code really writes and reads.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

KB, FOUR_KB = 1024, 4096


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (names counted by the caller)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        digits = len(str(Decimal(inner)).replace("-", "").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "B":
        return len(inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in inner)
    return len(str(inner))


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in (item or {}).items())


def units(size: int, block: int) -> int:
    return max(1, math.ceil(size / block))


def index_copy_size(index: Any, item: dict[str, Any] | None) -> int:
    """Size of an item's copy on an index: the whole item (projection ALL), or its table keys
    and the index's keys (KEYS_ONLY)."""
    if item and index.keys_only:
        return item_size({name: item[name] for name in ("PK", "SK", index.partition_key, index.sort_key)})
    return item_size(item)


def index_writes(index: Any, old: dict[str, Any] | None, new: dict[str, Any] | None) -> int:
    """Write units of one index for one base write: a copy's size is `index_copy_size`."""

    def keys(item: dict[str, Any] | None) -> tuple[Any, Any] | None:
        if item and index.partition_key in item and index.sort_key in item:
            return item[index.partition_key], item[index.sort_key]
        return None

    before, after = keys(old), keys(new)
    if before is None and after is None:
        return 0
    if before == after:
        # Same keys: a keys-only copy is unchanged by a new content, a full copy is rewritten.
        return units(index_copy_size(index, new), KB) if old != new and not index.keys_only else 0
    return (units(index_copy_size(index, old), KB) if before else 0) \
        + (units(index_copy_size(index, new), KB) if after else 0)
