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

# The queue's working columns, in the order a return passes through them.
OPEN_STATUSES: tuple[ReturnStatus, ...] = (R.REQUESTED, R.APPROVED, R.RECEIVED)
FINAL_STATUSES: tuple[ReturnStatus, ...] = (R.CLOSED, R.REJECTED, R.CANCELLED)
# Goods may arrive once the return is approved, and keep arriving (a second parcel)
# until it is closed: receiving in `received` adds to what is there.
RECEIVING_STATUSES = frozenset({R.APPROVED, R.RECEIVED})
# A rejected or cancelled return gives its units back: another return may claim them.
RELEASED_STATUSES = frozenset({R.REJECTED, R.CANCELLED})

_WHY_NOT = {
    (R.REQUESTED, R.RECEIVED): "approve it first, then record what arrived",
    (R.REQUESTED, R.CLOSED): "approve it and record what arrived first",
    (R.REQUESTED, R.CANCELLED): "reject it instead",
    (R.APPROVED, R.CLOSED): "record what arrived first",
    (R.APPROVED, R.REJECTED): "it was already approved; cancel it instead",
    (R.RECEIVED, R.CANCELLED): "goods have arrived; close it with a refund or an exchange",
    (R.RECEIVED, R.REJECTED): "goods have arrived; close it with a refund or an exchange",
}


def check_return_transition(current: ReturnStatus | str, target: ReturnStatus | str) -> None:
    """Raise IllegalTransition with a sentence an ops person understands."""
    current, target = ReturnStatus(current), ReturnStatus(target)
    if target in ALLOWED[current]:
        return
    if current == target:
        raise IllegalTransition(f"The return is already {current.label}.")
    if not ALLOWED[current]:
        raise IllegalTransition(f"A return that is {current.label} is final and cannot be moved to {target.label}.")
    why = _WHY_NOT.get((current, target))
    if why is None:
        allowed = ", ".join(sorted(s.label for s in ALLOWED[current]))
        why = f"it can go to: {allowed}"
    raise IllegalTransition(f"A return that is {current.label} cannot be moved to {target.label} ({why}).")


def check_can_receive(current: ReturnStatus | str) -> None:
    """Receiving is the move to `received`, and also allowed again while received."""
    current = ReturnStatus(current)
    if current not in RECEIVING_STATUSES:
        check_return_transition(current, R.RECEIVED)
