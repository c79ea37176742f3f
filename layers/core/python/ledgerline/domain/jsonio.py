"""JSON in and out with exact decimals.

In: numbers with a fraction or exponent become `Decimal` (never binary float); NaN and
Infinity become non-finite Decimals so the money rules can name the field; duplicate
object keys are refused, and so are texts nested absurdly deep or holding lone surrogates
(they would crash the code that copies, hashes or stores them). Out: `simplejson` writes
Decimals as plain JSON numbers, digit for digit, never in exponent form (the standard library
can only write them through float).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import simplejson


class DuplicateKeyError(ValueError):
    pass


class UnusableJsonError(ValueError):
    """Valid JSON syntax that no request can use: absurd nesting, text that is not Unicode."""


# A valid event nests 7 levels at most (body > data > info > 4 more); far deeper bodies would
# exhaust the stack of the code that copies or hashes them.
MAX_NESTING = 32
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(f"duplicate object key {key!r}")
        result[key] = value
    return result


def loads(text: str | bytes) -> Any:
    """Parse JSON; raises ValueError (json.JSONDecodeError, DuplicateKeyError, UnusableJsonError) when malformed."""
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=Decimal, object_pairs_hook=_unique_object)
    except RecursionError:
        raise UnusableJsonError(f"nested more than {MAX_NESTING} levels deep") from None
    _check_usable(value)
    return value


def _check_usable(value: Any) -> None:
    """Refuse nesting beyond MAX_NESTING and lone surrogates (\\ud800 escapes), which cannot be UTF-8."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise UnusableJsonError("a string holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text")
        elif isinstance(item, (dict, list)):
            if depth > MAX_NESTING:
                raise UnusableJsonError(f"nested more than {MAX_NESTING} levels deep")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)


def _plain_decimal(value: Any) -> simplejson.RawJSON:
    """A Decimal as a plain JSON number, digit for digit and never in exponent form (1E+4 -> 10000)."""
    if isinstance(value, Decimal) and value.is_finite():
        return simplejson.RawJSON(format(value, "f"))
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON serializable")


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """The one JSON writer of responses, stored JSON texts and outgoing events: numbers exact and
    plain (money is never written in exponent form), NaN and Infinity refused."""
    return simplejson.dumps(value, use_decimal=False, default=_plain_decimal, sort_keys=sort_keys,
                            separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(value: Any) -> str:
    """Stable text of a value: sorted keys, no whitespace. Used to fingerprint request bodies.

    Numbers keep the form they were sent in (the fingerprint of a stored request must never
    change). A body may still hold NaN or Infinity here (validation refuses them later, naming
    the field), so they are written as the tokens they were read from instead of failing.
    """
    return simplejson.dumps(value, use_decimal=True, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=True)
