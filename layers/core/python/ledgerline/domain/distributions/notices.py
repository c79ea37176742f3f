"""Holder notices: one per paid line, with a deterministic id so regenerating adds nothing."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerline.domain.distributions.money import format_amount


def notice_id(run_id: str, holder_id: str) -> str:
    return f"{run_id}:{holder_id}"


def build_notice(
    run: Mapping[str, Any],
    line: Mapping[str, Any],
    holder: Mapping[str, Any],
    asset: Mapping[str, Any],
    event: Mapping[str, Any],
    exponent: int,
) -> dict[str, Any]:
    """The notice of one holder's line: it names the asset, amount, currency, payment date and share."""
    amount = format_amount(Decimal(line["amount"]), exponent)
    percentage = f"{Decimal(line['ownership_percentage']):f}"
    currency = run["currency"]
    body = (
        f"Dear {holder.get('name', line['holder_id'])},\n\n"
        f"A distribution of {asset['name']} ({asset['asset_id']}) pays you {amount} {currency} "
        f"on {event['payment_date'][:10]}.\n"
        f"You held {Decimal(line['units']):f} units on the record date {run['record_date'][:10]}, "
        f"{percentage}% of the asset.\n\n"
        f"Reference: {run['run_id']}\n"
    )
    found = {
        "notice_id": notice_id(run["run_id"], line["holder_id"]),
        "run_id": run["run_id"],
        "holder_id": line["holder_id"],
        "subject": f"Distribution from {asset['name']}: {amount} {currency}",
        "body": body,
        "status": "generated",
    }
    if holder.get("email"):
        found["email"] = holder["email"]
    return found
