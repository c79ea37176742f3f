"""The daily sweep: recompute the disbursements whose next due day has passed (the due queue
holds exactly those), so `overdue` appears without a new event and without a table scan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ledgerline.domain.derive import Cause
from ledgerline.observability import count, logger
from ledgerline.settings import get_settings
from ledgerline.store import derived
from ledgerline.store.keys import system_time
from ledgerline.worker.derivation import recompute_disbursement
from ledgerline.worker.stream import processing_date

SWEEP_REQUEST = "sweep"  # {"ledgerline": "sweep", "date": "YYYY-MM-DD" (optional)}


def is_sweep_request(event: Any) -> bool:
    return isinstance(event, dict) and event.get("ledgerline") == SWEEP_REQUEST


def sweep(
    today: date | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
    since: date | None = None,
) -> dict[str, Any]:
    """Recompute every disbursement whose next due day is before `today` (default: now, UTC).

    Reads the due queue day by day, shard by shard (no scan): from the day after the last
    complete sweep (the watermark), or `sweep_lookback_days` back when that is earlier or there
    is none, or from `since` when given, up to yesterday. Each entry is removed by the
    recomputation that makes its disbursement overdue, or here when it turns out stale; running
    twice is harmless. Stops early when `out_of_time()`; the watermark then stays, so the next
    run starts over where this one could not finish.
    """
    today = today or processing_date()
    cause = Cause.sweep(today, system_time())
    last = derived.swept_through()
    start = today - timedelta(days=get_settings().sweep_lookback_days)
    if last is not None and last + timedelta(days=1) < start:
        start = last + timedelta(days=1)
    if since is not None:
        start = since
    summary: dict[str, Any] = {"date": today.isoformat(), "from": start.isoformat(), "checked": 0, "overdue": 0,
                               "complete": True}
    due = start
    while due < today:
        for tenant, disbursement_id in list(derived.due_on(due)):
            if out_of_time():
                summary["complete"] = False
                logger.warning("sweep stopped before the end", extra=summary)
                return summary
            summary["checked"] += 1
            logger.append_keys(tenant_id=tenant)
            result = recompute_disbursement(tenant, disbursement_id, cause, today)
            if result is not None and result.status_change is not None and result.status == "overdue":
                summary["overdue"] += 1
            if result is None or result.sweep_after != due:
                derived.drop_due(due, tenant, disbursement_id)
        due += timedelta(days=1)
    derived.mark_swept_through(today - timedelta(days=1))
    count("SweepChecked", summary["checked"])
    logger.info("sweep done", extra=summary)
    return summary


def sweep_request(event: dict[str, Any], remaining_ms: Callable[[], int]) -> dict[str, Any]:
    """The scheduler's (or an operator's) sweep request: `date` overrides the processing date,
    `since` the first due day to look at (e.g. a first run over older data)."""
    today = date.fromisoformat(event["date"]) if event.get("date") else None
    since = date.fromisoformat(event["since"]) if event.get("since") else None
    return sweep(today, out_of_time=lambda: remaining_ms() < 20_000, since=since)
