"""A distribution run's states: calculated → approved → exported; canceled from calculated or approved.

A run too large for one transaction is first stored `calculating` (its lines fixed, not yet all
written as records) and becomes `calculated` once they are; no action applies to it meanwhile.
"""

from __future__ import annotations

from enum import StrEnum

from ledgerline.domain.errors import DomainError, Violation


class RunStatus(StrEnum):
    CALCULATING = "calculating"
    CALCULATED = "calculated"
    APPROVED = "approved"
    EXPORTED = "exported"
    CANCELED = "canceled"


class RunAction(StrEnum):
    APPROVE = "approve"
    CANCEL = "cancel"
    MARK_EXPORTED = "mark-exported"


# action -> (states it starts from, state it leads to)
TRANSITIONS: dict[RunAction, tuple[frozenset[RunStatus], RunStatus]] = {
    RunAction.APPROVE: (frozenset({RunStatus.CALCULATED}), RunStatus.APPROVED),
    RunAction.CANCEL: (frozenset({RunStatus.CALCULATED, RunStatus.APPROVED}), RunStatus.CANCELED),
    RunAction.MARK_EXPORTED: (frozenset({RunStatus.APPROVED}), RunStatus.EXPORTED),
}
# States whose run still counts for its cash-flow event (one live run per event).
LIVE = frozenset({RunStatus.CALCULATING, RunStatus.CALCULATED, RunStatus.APPROVED, RunStatus.EXPORTED})
# States that let the payment file and notices be produced.
PAYABLE = frozenset({RunStatus.APPROVED, RunStatus.EXPORTED})


def next_status(current: RunStatus, action: RunAction) -> RunStatus | None:
    """The state `action` leads to from `current`; None when nothing changes (exporting again).

    Raises a 409 `invalid-state` problem for a move the state machine does not have.
    """
    sources, target = TRANSITIONS[action]
    if current in sources:
        return target
    if action is RunAction.MARK_EXPORTED and current is RunStatus.EXPORTED:
        return None
    allowed = " or ".join(sorted(sources))
    raise invalid_state(f"cannot {action.value} a run that is {current.value}; only a run that is {allowed}")


def require_status(current: RunStatus, allowed: frozenset[RunStatus], what: str) -> None:
    if current not in allowed:
        names = " or ".join(sorted(allowed))
        raise invalid_state(f"{what} needs a run that is {names}; this run is {current.value}")


def invalid_state(detail: str) -> DomainError:
    return DomainError("invalid-state", detail, [Violation("status", "invalid-state", detail)])
