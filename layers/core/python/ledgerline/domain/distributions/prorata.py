"""The rounding rule: pro rata by largest remainders, lines summing to the amount exactly.

Each holder's line is `amount × units ÷ total_units` rounded down to the minor unit; the minor
units left over go one each to the largest remainders, ties to the smaller `holder_id`. All
arithmetic is on integers (minor units, micro-units), so nothing depends on a decimal context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ledgerline.domain.distributions.money import UNITS_PLACES, from_minor, plain, to_minor

PERCENT_PLACES = 6


@dataclass(frozen=True)
class Line:
    holder_id: str
    units: Decimal
    ownership_percentage: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    total_units: Decimal
    lines: list[Line]  # ordered by holder_id


def allocate(amount: Decimal, exponent: int, units_by_holder: Mapping[str, Decimal]) -> Allocation:
    """Split `amount` (a whole number of minor units) over the holders with units > 0.

    Raises ValueError when no holder has units: there is nothing to split over.
    """
    holdings = {holder: units for holder, units in units_by_holder.items() if units > 0}
    if not holdings:
        raise ValueError("no holder has units")
    total_minor = to_minor(amount, exponent)
    micro = {holder: to_minor(units, UNITS_PLACES) for holder, units in holdings.items()}
    total_micro = sum(micro.values())
    floors: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for holder, held in micro.items():
        floors[holder], remainders[holder] = divmod(total_minor * held, total_micro)
    left_over = total_minor - sum(floors.values())
    # Fewer left-over minor units than holders: each remainder is < total_micro, so their sum,
    # left_over × total_micro, is below holders × total_micro.
    for holder in sorted(remainders, key=lambda h: (-remainders[h], h))[:left_over]:
        floors[holder] += 1
    total_units = sum(holdings.values(), Decimal(0))
    lines = [
        Line(
            holder_id=holder,
            units=plain(holdings[holder]),
            ownership_percentage=ownership_percentage(micro[holder], total_micro),
            amount=from_minor(floors[holder], exponent),
        )
        for holder in sorted(holdings)
    ]
    return Allocation(total_units=plain(total_units), lines=lines)


def ownership_percentage(held: int, total: int) -> Decimal:
    """held ÷ total × 100 with exactly 6 decimals, rounded half to even (integers, no context)."""
    millionths, remainder = divmod(held * 100 * 10**PERCENT_PLACES, total)
    if 2 * remainder > total or (2 * remainder == total and millionths % 2):
        millionths += 1
    return from_minor(millionths, PERCENT_PLACES)
