"""Moving an order between statuses: the single place that changes Order.status.

Checks the transition against the domain table, keeps the hold fields and SLA clocks
in step, and writes the audit event. Never commits.
"""

from __future__ import annotations

from datetime import datetime

from app.domain.enums import ClockKind
from app.domain.order_states import HoldReason, OrderStatus, check_transition
from app.models import Order
from app.services import clocks
from app.services.actors import Actor
from app.services.audit import record_event

HOLD_CLOCKS = {HoldReason.STOCK: ClockKind.STOCK_HOLD, HoldReason.ADDRESS: ClockKind.ADDRESS_HOLD}


def set_status(order: Order, target: OrderStatus, *, actor: Actor, at: datetime,
               hold_reason: HoldReason | None = None, note: str | None = None) -> None:
    current = OrderStatus(order.status)
    if target == OrderStatus.ON_HOLD and current == OrderStatus.ON_HOLD:
        change_hold_reason(order, hold_reason or HoldReason.MANUAL, actor=actor, at=at, note=note)
        return
    check_transition(current, target)
    if current == OrderStatus.ON_HOLD:
        _leave_hold(order, at)
    if target in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED):
        clocks.stop(order, ClockKind.DISPATCH, at, met=True)  # the first shipment meets dispatch
    order.status = target
    details = {"note": note} if note else None
    if target == OrderStatus.ON_HOLD:
        _enter_hold(order, hold_reason or HoldReason.MANUAL, actor=actor, at=at, note=note)
        details = {"hold_reason": order.hold_reason, "note": note}
    if target == OrderStatus.CANCELLED:
        order.cancelled_at = at
        clocks.stop_all(order, at)
    record_event("order", order.number, "status_changed", actor=actor, before=current, after=target,
                 details=details, at=at)


def change_hold_reason(order: Order, reason: HoldReason, *, actor: Actor, at: datetime,
                       note: str | None = None) -> None:
    if order.hold_reason == reason:
        if note and note != order.hold_note:
            order.hold_note = note[:500]
        return
    before = order.hold_reason
    _leave_hold(order, at)
    _enter_hold(order, reason, actor=actor, at=at, note=note)
    record_event("order", order.number, "hold_reason_changed", actor=actor, before=before, after=reason,
                 details={"note": note} if note else None, at=at)


def _enter_hold(order: Order, reason: HoldReason, *, actor: Actor, at: datetime, note: str | None) -> None:
    order.hold_reason = reason
    order.held_at = at
    order.held_by = actor.display
    order.hold_note = (note or "")[:500] or None
    if reason in HOLD_CLOCKS:
        clocks.start_hold_clock(order, HOLD_CLOCKS[reason], at)


def _leave_hold(order: Order, at: datetime) -> None:
    if order.hold_reason in HOLD_CLOCKS:
        clocks.stop(order, HOLD_CLOCKS[HoldReason(order.hold_reason)], at, met=True)
    order.hold_reason = None
    order.held_at = None
    order.held_by = None
    order.hold_note = None
