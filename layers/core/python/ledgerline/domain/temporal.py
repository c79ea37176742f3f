"""Bitemporal reading of a record's versions: history, as-of, changes. Pure functions.

A version carries two times: `valid_from` (when the change took effect in the real world,
from `effective_at`) and `system_from` (when Ledgerline stored it). Each version's *changes*
(the fields it set) apply from its valid time on. The record as of valid date D, as known at
system time K, is the fold, in valid-time order, of the changes of every version stored by K
whose valid time is on or before D. Ties in valid time go to the later stored version.

Nothing takes effect before the record exists: a version whose valid_from precedes the
creation's is treated as taking effect at the creation's valid_from. So a correction sent
later with an earlier effective_at changes the answers for dates from its effective_at on —
but only for K after it was stored; answers as known before then do not change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledgerline.domain.values import end_of, format_timestamp, instant

OPEN_END = "9999-12-31T23:59:59Z"
RECORD_META = ("version", "created_at", "updated_at")


def _effective(version: dict[str, Any], created: datetime) -> tuple[datetime, datetime]:
    """Sort key in valid-time order: (effective valid time, system time)."""
    return max(instant(version["valid_from"]), created), instant(version["system_from"])


def _created(versions: list[dict[str, Any]]) -> datetime:
    first = min(versions, key=lambda v: v["version"])
    return instant(first["valid_from"])


def history(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every version, newest first, with derived valid_to and system_to.

    system_to is when the next version was stored (the end of this version being the latest
    knowledge); valid_to is the next later effective valid time among all versions.
    """
    if not versions:
        return []
    ordered = sorted(versions, key=lambda v: v["version"])
    created = _created(ordered)
    starts = sorted({_effective(v, created)[0] for v in ordered})
    entries = []
    for index, version in enumerate(ordered):
        start = _effective(version, created)[0]
        later = [s for s in starts if s > start]
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        entries.append({
            "version": version["version"],
            "previous_version": version.get("previous_version"),
            "valid_from": version["valid_from"],
            "valid_to": _text(later[0]) if later else OPEN_END,
            "system_from": version["system_from"],
            "system_to": following["system_from"] if following else OPEN_END,
            "changed_by": version.get("changed_by"),
            "event_id": version.get("event_id"),
            "deleted": bool(version.get("deleted")),
            "changes": list(version.get("changes") or []),
            "record": version["record"],
        })
    return entries[::-1]


def as_of(versions: list[dict[str, Any]], valid_at: str, known_at: str) -> dict[str, Any] | None:
    """The record valid at `valid_at` as known at `known_at`, or None if it did not exist then.

    A date-only `known_at` is an inclusive upper bound: what was stored by the end of that day.
    """
    known = [v for v in versions if instant(v["system_from"]) < end_of(known_at)]
    if not known or not any(v["version"] == 1 for v in known):
        return None
    created = _created(known)
    moment = instant(valid_at)
    ordered = sorted(known, key=lambda v: _effective(v, created))
    applied = [v for v in ordered if _effective(v, created)[0] <= moment]
    if not applied:
        return None
    record: dict[str, Any] = {}
    for version in applied:
        for name in version.get("changes") or []:
            if name in version["record"]:
                record[name] = version["record"][name]
            else:
                record.pop(name, None)
    last = applied[-1]
    first = min(known, key=lambda v: v["version"])
    record.update(version=last["version"], created_at=first["system_from"], updated_at=last["system_from"])
    later = [_effective(v, created)[0] for v in ordered if _effective(v, created)[0] > moment]
    return {
        "version": last["version"],
        "valid_from": _text(_effective(last, created)[0]) if instant(last["valid_from"]) < created
        else last["valid_from"],
        "valid_to": _text(min(later)) if later else OPEN_END,
        "record": record,
    }


def changes(versions: list[dict[str, Any]], since: str | None, until: str | None) -> list[dict[str, Any]]:
    """Per-field old and new values of each version stored within [since, until], oldest first.

    A date-only `until` includes the whole of that day.
    """
    by_number = {v["version"]: v for v in versions}
    found = []
    for version in sorted(versions, key=lambda v: v["version"]):
        stored = instant(version["system_from"])
        if (since and stored < instant(since)) or (until and stored >= end_of(until)):
            continue
        before = by_number.get(version["version"] - 1, {}).get("record", {})
        found.append({
            "version": version["version"],
            "changed_at": version["system_from"],
            "changed_by": version.get("changed_by"),
            "event_id": version.get("event_id"),
            "changes": {
                name: {"old": before.get(name), "new": version["record"].get(name)}
                for name in version.get("changes") or []
            },
        })
    return found


def _text(moment: datetime) -> str:
    return format_timestamp(moment)
