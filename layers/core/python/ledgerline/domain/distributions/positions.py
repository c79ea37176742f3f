"""Positions over time: which units each holder holds on a given day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ledgerline.domain.values import instant


def units_as_of(positions: Iterable[Mapping[str, Any]], day: str) -> dict[str, Decimal]:
    """Each holder's units in force on `day`: their position with the latest effective_date ≤ day."""
    moment = instant(day)
    latest: dict[str, tuple[Any, Decimal]] = {}
    for position in positions:
        effective = instant(position["effective_date"])
        if effective > moment:
            continue
        holder = position["holder_id"]
        if holder not in latest or effective > latest[holder][0]:
            latest[holder] = (effective, Decimal(position["units"]))
    return {holder: units for holder, (_, units) in sorted(latest.items())}
