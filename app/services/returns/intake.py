"""Opening a return (RMA) for units of a shipped order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select

from app.domain.enums import ReturnResolution
from app.domain.errors import ValidationFailed
from app.domain.order_states import OrderStatus
from app.domain.return_states import ReturnStatus
from app.domain.returns import (
    NotReturnable,
    ReturnableLine,
    check_may_handle,
    check_reason,
    plan_return_lines,
    units_held,
)
from app.extensions import db
from app.models import Order, Return, ReturnLine, ReturnReceipt
from app.models.base import utcnow
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.numbering import next_number
from app.services.returns.common import lock_order
from app.services.tx import begin_write


def held_per_line(order: Order) -> dict[int, int]:
    """Units of each order line claimed by the order's returns (see domain units_held)."""
    received = dict(db.session.execute(
        select(ReturnReceipt.return_line_id, db.func.sum(ReturnReceipt.qty))
        .join(ReturnLine, ReturnLine.id == ReturnReceipt.return_line_id)
        .join(Return, Return.id == ReturnLine.return_id)
        .where(Return.order_id == order.id)
        .group_by(ReturnReceipt.return_line_id)
    ).all())
    held: dict[int, int] = {}
    rows = db.session.execute(
        select(ReturnLine.id, ReturnLine.order_line_id, ReturnLine.qty, ReturnLine.not_returned, Return.status)
        .join(Return, Return.id == ReturnLine.return_id)
        .where(Return.order_id == order.id)
    )
    for line_id, order_line_id, qty, not_returned, status in rows:
        units = units_held(status, qty, int(received.get(line_id) or 0), not_returned)
        held[order_line_id] = held.get(order_line_id, 0) + units
    return held


def returnable_lines(order: Order) -> list[ReturnableLine]:
    held = held_per_line(order)
    return [ReturnableLine(line.id, line.sku, line.qty_shipped, held.get(line.id, 0)) for line in order.lines]


def check_returnable(order: Order) -> None:
    if order.status == OrderStatus.CANCELLED:
        raise NotReturnable(f"{order.number} is cancelled; nothing was sent, so nothing can be returned.")
    if sum(line.qty_shipped for line in order.lines) == 0:
        raise NotReturnable(
            f"{order.number} has not shipped anything yet ({OrderStatus(order.status).label}); only shipped "
            f"units can be returned.")


def create_return(order_number: str, lines: Sequence[Mapping], reason: str, *, actor: Actor, reason_note: str = "",
                  resolution: str | None = None, now: datetime | None = None) -> Return:
    """Open an RMA for `lines` = [{"sku", "qty"}, …] of a shipped order.

    Never more than was shipped minus what the order's other returns hold: the order row
    is locked while counting, so two RMAs opened at once cannot claim the same unit."""
    now = now or utcnow()
    check_may_handle(actor.role)
    reason_note = (reason_note or "").strip()
    check_reason(reason, reason_note)
    resolution = resolution or ReturnResolution.REFUND
    if resolution not in ReturnResolution.values():
        raise ValidationFailed(f"“{resolution}” is not a resolution.",
                               details={"resolution": [f"One of {', '.join(ReturnResolution.values())}."]})
    begin_write()
    order = lock_order(number=order_number)
    check_returnable(order)
    plan = plan_return_lines(list(lines), returnable_lines(order))
    ret = Return(number=next_number("return"), order_id=order.id, status=ReturnStatus.REQUESTED, reason=reason,
                 reason_note=reason_note[:500], resolution=resolution, requested_at=now, updated_at=now,
                 created_by=actor.display)
    by_id = {line.id: line for line in order.lines}
    for order_line in order.lines:
        if order_line.id in plan:
            ret.lines.append(ReturnLine(order_line_id=order_line.id, qty=plan[order_line.id], line=order_line))
    db.session.add(ret)
    db.session.flush()
    items = [{"sku": by_id[line_id].sku, "qty": qty} for line_id, qty in plan.items()]
    details = {"order": order.number, "reason": reason, "note": reason_note or None, "resolution": resolution,
               "lines": items}
    record_event("return", ret.number, "return_requested", actor=actor, after=ReturnStatus.REQUESTED,
                 details=details, at=now)
    record_event("order", order.number, "return_requested", actor=actor, details={"return": ret.number, **details},
                 at=now)
    db.session.commit()
    return ret
