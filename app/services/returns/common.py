"""Loading and locking a return for a change, and what every change does to the row.

Lock order, as everywhere: the order first, then the return, then stock levels (by
product, location), then invoices and document counters — so a return's writers and
the order, stock and fulfillment services never wait on each other in a circle.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.errors import NotFound, StaleVersion
from app.domain.return_states import ReturnStatus
from app.domain.returns import ExpectedLine
from app.extensions import db
from app.models import Order, Return, ReturnLine
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.tx import begin_write


def get_return(number: str) -> Return:
    ret = db.session.scalar(
        select(Return).where(Return.number == number)
        .options(selectinload(Return.lines).selectinload(ReturnLine.receipts))
    )
    if ret is None:
        raise NotFound(f"There is no return {number}.")
    return ret


def lock_order(order_id: int | None = None, *, number: str | None = None) -> Order:
    stmt = select(Order).options(selectinload(Order.lines)).with_for_update(of=Order)
    stmt = stmt.where(Order.id == order_id) if order_id is not None else stmt.where(Order.number == number)
    order = db.session.scalar(stmt.execution_options(populate_existing=True))
    if order is None:
        raise NotFound(f"There is no order {number}.")
    return order


def load_for_change(number: str, expected_version: int | None) -> tuple[Return, Order]:
    """Start the write transaction and lock the return's order and the return itself.

    The return is read again under the lock (populate_existing), so the version checked
    is the committed one: of two people receiving the same parcel, the second waits for
    the first and then finds the version moved."""
    begin_write()
    order_id = db.session.scalar(select(Return.order_id).where(Return.number == number))
    if order_id is None:
        raise NotFound(f"There is no return {number}.")
    order = lock_order(order_id)
    ret = db.session.scalar(
        select(Return).where(Return.number == number)
        .options(selectinload(Return.lines).selectinload(ReturnLine.receipts))
        .with_for_update(of=Return)
        .execution_options(populate_existing=True)
    )
    if expected_version is not None and ret.version != expected_version:
        raise StaleVersion(
            f"{ret.number} was changed by someone else while you had it open (it is now "
            f"{ReturnStatus(ret.status).label}, version {ret.version}). Nothing was saved; reload to see "
            f"what they recorded.",
            details={"status": ret.status, "version": ret.version},
        )
    return ret, order


def touch(ret: Return, at: datetime) -> None:
    """Every change rewrites the row, so its version moves (see Return.updated_at)."""
    ret.updated_at = at


def set_status(ret: Return, target: ReturnStatus, *, actor: Actor, at: datetime, details: dict | None = None) -> None:
    before = ret.status
    ret.status = target
    stamp = {ReturnStatus.APPROVED: "approved_at", ReturnStatus.RECEIVED: "received_at",
             ReturnStatus.CLOSED: "closed_at"}.get(target)
    if stamp and getattr(ret, stamp) is None:
        setattr(ret, stamp, at)
    touch(ret, at)
    record_event("return", ret.number, "status_changed", actor=actor, before=before, after=target,
                 details=details, at=at)


def expected_lines(ret: Return) -> list[ExpectedLine]:
    return [ExpectedLine(line.id, line.line.sku, line.qty, line.qty_received, line.not_returned)
            for line in ret.lines]
