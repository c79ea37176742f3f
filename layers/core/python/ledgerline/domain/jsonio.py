"""JSON in and out with exact decimals.

In: numbers with a fraction or exponent become `Decimal` (never binary float); NaN and
Infinity become non-finite Decimals so the money rules can name the field; duplicate
object keys are refused. Out: `simplejson` writes Decimals as JSON numbers, digit for digit
(the standard library can only write them through float).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simplejson


class DuplicateKeyError(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(f"duplicate object key {key!r}")
        result[key] = value
    return result


def loads(text: str | bytes) -> Any:
    """Parse JSON; raises ValueError (json.JSONDecodeError or DuplicateKeyError) when malformed."""
    return json.loads(text, parse_float=Decimal, parse_constant=Decimal, object_pairs_hook=_unique_object)


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    return simplejson.dumps(value, use_decimal=True, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)


def canonical(value: Any) -> str:
    """Stable text of a value: sorted keys, no whitespace. Used to fingerprint request bodies."""
    return dumps(value, sort_keys=True)
