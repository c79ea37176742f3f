"""Exception rules: what must be fixed (blocking) or looked at (warning) before money moves.

They are detected on the run's lines against the holders' current data, when a run is
calculated, on request, and again when it is approved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

BLOCKING = "blocking"
WARNING = "warning"
# code -> severity, in the order exceptions are listed
RULES: dict[str, str] = {
    "missing-payment-details": BLOCKING,
    "holder-deleted": BLOCKING,
    "duplicate-payment-details": WARNING,
    "units-mismatch": WARNING,
    "zero-amount-line": WARNING,
}


NAMED_OTHERS = 5  # holders named in a duplicate's detail; the rest are counted
MAX_STORED = 200  # exceptions kept on a run (all are counted, and detection answers them all)


@dataclass(frozen=True)
class RunException:
    code: str
    detail: str
    holder_id: str | None = None

    @property
    def severity(self) -> str:
        return RULES[self.code]

    def as_dict(self) -> dict[str, str]:
        found = {"code": self.code, "severity": self.severity, "detail": self.detail}
        if self.holder_id is not None:
            found["holder_id"] = self.holder_id
        return found


@dataclass(frozen=True)
class LineView:
    holder_id: str
    amount: Decimal


def detect(
    lines: Sequence[LineView],
    holders: Mapping[str, Mapping[str, Any] | None],
    snapshot_units: Decimal,
    asset_total_units: Decimal | None,
) -> list[RunException]:
    """Every exception of a run; `holders` maps each line's holder to its current record
    (None when it no longer exists; a record with `deleted` is a deleted holder)."""
    found: list[RunException] = []
    live: dict[str, Mapping[str, Any]] = {}
    for line in lines:
        holder = holders.get(line.holder_id)
        if holder is None or holder.get("deleted"):
            found.append(RunException("holder-deleted", "the holder has been deleted since the run was calculated",
                                      line.holder_id))
            continue
        live[line.holder_id] = holder
        if line.amount == 0:
            found.append(RunException("zero-amount-line", "the holder's share rounds down to 0; no payment is made",
                                      line.holder_id))
        elif not _payment(holder).get("iban") and not _payment(holder).get("account_number"):
            found.append(RunException("missing-payment-details", "the holder has neither an IBAN nor an account number",
                                      line.holder_id))
    found.extend(_duplicates(live))
    if asset_total_units is not None and snapshot_units != asset_total_units:
        found.append(RunException(
            "units-mismatch",
            f"the holders hold {snapshot_units:f} units on the record date; the asset's total_units is "
            f"{asset_total_units:f}",
        ))
    order = list(RULES)
    return sorted(found, key=lambda e: (order.index(e.code), e.holder_id or ""))


def blocking(exceptions: Sequence[RunException]) -> list[RunException]:
    return [e for e in exceptions if e.severity == BLOCKING]


def _payment(holder: Mapping[str, Any]) -> Mapping[str, Any]:
    return holder.get("payment") or {}


def _duplicates(holders: Mapping[str, Mapping[str, Any]]) -> list[RunException]:
    """One warning per holder who shares an IBAN, or a bank code and account number, with another.

    Linear in the holders: each detail names at most NAMED_OTHERS others and counts the rest.
    """
    sharing: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for holder_id, holder in holders.items():
        payment = _payment(holder)
        if payment.get("iban"):
            sharing[("IBAN", payment["iban"])].append(holder_id)
        if payment.get("account_number"):
            sharing[("account", payment.get("bank_code") or "", payment["account_number"])].append(holder_id)
    groups: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for key, holder_ids in sharing.items():
        if len(holder_ids) > 1:
            ordered = sorted(holder_ids)
            for holder_id in holder_ids:
                groups[holder_id].append((key[0], ordered))
    found = []
    for holder_id, shared in groups.items():
        named: list[str] = []
        others = 0
        for kind, members in shared:
            others += len(members) - 1
            for other in members:
                if len(named) == NAMED_OTHERS:
                    break
                if other != holder_id:
                    named.append(f"{kind} with {other}")
        described = ", ".join(named) + (f" and {others - len(named)} more" if others > len(named) else "")
        found.append(RunException("duplicate-payment-details", f"the holder shares its {described}", holder_id))
    return found


def stored(exceptions: Sequence[RunException]) -> tuple[list[dict[str, str]], dict[str, int]]:
    """What a run keeps: the first MAX_STORED exceptions (blocking first) and the count per code,
    so a run of 10,000 holders sharing one account stays far below DynamoDB's 400 KB item."""
    counts: dict[str, int] = {}
    for exception in exceptions:
        counts[exception.code] = counts.get(exception.code, 0) + 1
    return [e.as_dict() for e in exceptions[:MAX_STORED]], counts
