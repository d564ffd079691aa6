"""One action applied to many orders, each in its own transaction.

A refusal for one order (an illegal move, a stale state) is reported and the loop
goes on: the orders that could be changed stay changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app.domain.errors import DomainError, IllegalTransition, ValidationFailed
from app.domain.order_states import HoldReason, OrderStatus
from app.extensions import db
from app.services import orders
from app.services.actors import Actor

ACTIONS = ("move", "hold", "release", "cancel")
MAX_ORDERS = 200


@dataclass(frozen=True)
class BulkResult:
    number: str
    ok: bool
    message: str


def _apply_one(number: str, action: str, argument: str | None, note: str | None, *, actor: Actor,
               now: datetime | None) -> str:
    if action == "move":
        order = orders.transition(number, argument or "", actor=actor, reason=note, now=now)
        return f"Moved to {OrderStatus(order.status).label}."
    if action == "hold":
        order = orders.set_hold(number, argument or HoldReason.MANUAL, note=note, actor=actor, now=now)
        return f"On hold for {HoldReason(order.hold_reason).label}."
    if action == "release":
        if orders.get_order(number).status != OrderStatus.ON_HOLD:
            raise IllegalTransition(f"{number} is not on hold.")
        order = orders.transition(number, argument or OrderStatus.READY, actor=actor, now=now)
        return f"Released to {OrderStatus(order.status).label}."
    order = orders.cancel(number, reason=note or "cancelled in bulk", actor=actor, now=now)
    return "Cancelled; its stock is released."


def apply(numbers: Iterable[str], action: str, *, argument: str | None = None, note: str | None = None,
          actor: Actor, now: datetime | None = None) -> list[BulkResult]:
    """Apply `action` (move to `argument`, hold for `argument`, release to `argument`, cancel)
    to every order; returns one result per order, in the order given."""
    if action not in ACTIONS:
        raise ValidationFailed(f"“{action}” is not a bulk action.",
                               details={"action": [f"One of {', '.join(ACTIONS)}."]})
    if action == "hold" and argument not in HoldReason.values():
        raise ValidationFailed("Choose a hold reason.",
                               details={"argument": [f"One of {', '.join(HoldReason.values())}."]})
    if action in ("move", "release") and argument not in OrderStatus.values():
        raise ValidationFailed("Choose the status to move the orders to.", details={"argument": ["Required."]})
    wanted = [n.strip() for n in dict.fromkeys(numbers) if n and n.strip()]
    if not wanted:
        raise ValidationFailed("Select at least one order.", details={"numbers": ["Required."]})
    if len(wanted) > MAX_ORDERS:
        raise ValidationFailed(f"At most {MAX_ORDERS} orders at a time.",
                               details={"numbers": [f"At most {MAX_ORDERS}."]})
    results = []
    for number in wanted:
        try:
            message = _apply_one(number, action, argument, note, actor=actor, now=now)
        except DomainError as exc:
            db.session.rollback()
            results.append(BulkResult(number, False, exc.message))
        else:
            results.append(BulkResult(number, True, message))
    return results
