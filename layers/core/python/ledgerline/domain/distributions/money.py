"""Exact money in a currency's minor unit, and exact units.

The minor unit is the ISO 4217 exponent (USD 2, JPY 0, BHD 3), read from the `iso4217`
package, which ships the ISO maintenance agency's list. pycountry has no exponents, and
CLDR (babel) gives display digits that differ from ISO 4217 for several currencies (IQD is
3 in ISO 4217, 0 in CLDR). Currencies without a minor unit (XAU, XDR, ...) cannot be
distributed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from iso4217 import Currency as Iso4217
from pydantic_core import PydanticCustomError

from ledgerline.domain.values import strip_zeros

UNITS_PLACES = 6
UNITS_MAX = Decimal(10) ** 15
_EXPONENTS: dict[str, int] = {c.code: c.exponent for c in Iso4217 if c.exponent is not None}


def minor_unit_exponent(currency: str) -> int | None:
    """Decimal places of `currency`'s minor unit, or None when it has none (or is unknown)."""
    return _EXPONENTS.get(currency)


def distributable_currency(currency: str) -> bool:
    return currency in _EXPONENTS


def decimal_places(number: Decimal) -> int:
    """How many decimals `number` really has (trailing zeros do not count)."""
    exponent = strip_zeros(number).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def fits_currency(amount: Decimal, currency: str) -> bool:
    """Whether `amount` is a whole number of `currency`'s minor units."""
    exponent = minor_unit_exponent(currency)
    return exponent is not None and decimal_places(amount) <= exponent


def to_minor(amount: Decimal, exponent: int) -> int:
    """`amount` in minor units; the caller has checked that it fits (exact, never rounds)."""
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {exponent} decimals")
    return int(scaled)


def from_minor(minor: int, exponent: int) -> Decimal:
    """`minor` minor units as an amount written with exactly `exponent` decimals."""
    return Decimal(minor).scaleb(-exponent)


def format_amount(amount: Decimal, exponent: int) -> str:
    """Plain text with exactly the currency's decimals (`12.30`, `1500`, `0.125`), never `1E+3`."""
    return f"{from_minor(to_minor(amount, exponent), exponent):f}"


def parse_units(value: Any) -> Decimal:
    """Units a holder holds: a JSON number, 0 ≤ units ≤ 10^15, at most 6 decimals."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise PydanticCustomError("invalid-type", "must be a JSON number")
    units = Decimal(value)
    if not units.is_finite():
        raise PydanticCustomError("invalid-units", "must be a finite number")
    if units < 0 or units > UNITS_MAX:
        raise PydanticCustomError("out-of-range", "must be between 0 and 1000000000000000")
    if decimal_places(units) > UNITS_PLACES:
        raise PydanticCustomError("invalid-units", "must have at most 6 decimal places")
    return plain(units)


def plain(number: Decimal) -> Decimal:
    """`number` with no trailing fractional zeros and a non-negative exponent form (`1E+3` -> 1000)."""
    return number.quantize(Decimal(1).scaleb(-decimal_places(number)))
