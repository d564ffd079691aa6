"""Read models for the home page: live counts straight from the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.domain.order_states import HoldReason, OrderStatus
from app.extensions import db
from app.models import Order, Product, StockLevel


@dataclass(frozen=True)
class HomeCounts:
    by_status: dict[str, int]
    holds: dict[str, int]
    stock_alerts: int
    out_of_stock: int

    @property
    def open_orders(self) -> int:
        closed = {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED}
        return sum(n for s, n in self.by_status.items() if s not in closed)


def home_counts() -> HomeCounts:
    by_status = dict.fromkeys(OrderStatus.values(), 0)
    for status, count in db.session.execute(select(Order.status, func.count()).group_by(Order.status)):
        by_status[status] = count
    holds = dict.fromkeys(HoldReason.values(), 0)
    for reason, count in db.session.execute(
        select(Order.hold_reason, func.count()).where(Order.hold_reason.is_not(None)).group_by(Order.hold_reason)
    ):
        holds[reason] = count
    reorder_point = func.coalesce(StockLevel.reorder_point, Product.reorder_point)
    available = StockLevel.on_hand - StockLevel.reserved
    low = db.session.scalar(
        select(func.count())
        .select_from(StockLevel)
        .join(Product, Product.id == StockLevel.product_id)
        .where(Product.active.is_(True), available <= reorder_point, available > 0)
    )
    out = db.session.scalar(
        select(func.count())
        .select_from(StockLevel)
        .join(Product, Product.id == StockLevel.product_id)
        .where(Product.active.is_(True), available <= 0)
    )
    return HomeCounts(by_status=by_status, holds=holds, stock_alerts=low or 0, out_of_stock=out or 0)
