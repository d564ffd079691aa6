"""The return (RMA) state machine of DESIGN.md §4."""

from __future__ import annotations

from collections.abc import Mapping

from app.domain.enums import LabelledEnum
from app.domain.errors import IllegalTransition


class ReturnStatus(LabelledEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"
    CANCELLED = "cancelled"
    CLOSED = "closed"


R = ReturnStatus
ALLOWED: Mapping[ReturnStatus, frozenset[ReturnStatus]] = {
    R.REQUESTED: frozenset({R.APPROVED, R.REJECTED}),
    R.APPROVED: frozenset({R.RECEIVED, R.CANCELLED}),
    R.RECEIVED: frozenset({R.CLOSED}),
    R.REJECTED: frozenset(),
    R.CANCELLED: frozenset(),
    R.CLOSED: frozenset(),
}


def check_return_transition(current: ReturnStatus | str, target: ReturnStatus | str) -> None:
    current, target = ReturnStatus(current), ReturnStatus(target)
    if target not in ALLOWED[current]:
        raise IllegalTransition(f"A return that is {current.label} cannot be moved to {target.label}.")
