"""The order and payment state machines of DESIGN.md §4."""

from __future__ import annotations

from collections.abc import Mapping

from app.domain.enums import LabelledEnum
from app.domain.errors import IllegalTransition


class OrderStatus(LabelledEnum):
    NEW = "new"
    ON_HOLD = "on_hold"
    READY = "ready"
    PICKING = "picking"
    PACKED = "packed"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    OrderStatus.NEW: "new",
    OrderStatus.ON_HOLD: "on hold",
    OrderStatus.READY: "ready",
    OrderStatus.PICKING: "picking",
    OrderStatus.PACKED: "packed",
    OrderStatus.PARTIALLY_SHIPPED: "partially shipped",
    OrderStatus.SHIPPED: "shipped",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.CANCELLED: "cancelled",
}

S = OrderStatus
ALLOWED: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.READY, S.ON_HOLD, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.READY, S.NEW, S.CANCELLED}),
    S.READY: frozenset({S.PICKING, S.ON_HOLD, S.CANCELLED}),
    S.PICKING: frozenset({S.PACKED, S.READY, S.ON_HOLD}),
    S.PACKED: frozenset({S.SHIPPED, S.PARTIALLY_SHIPPED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED, S.PICKING}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Statuses in which the order still needs work: the "open" part of the board.
OPEN_STATUSES = frozenset({S.NEW, S.ON_HOLD, S.READY, S.PICKING, S.PACKED, S.PARTIALLY_SHIPPED})
# Statuses whose stock is reserved by allocations.
RESERVING_STATUSES = frozenset({S.NEW, S.ON_HOLD, S.READY, S.PICKING, S.PACKED, S.PARTIALLY_SHIPPED})


def check_transition(current: OrderStatus | str, target: OrderStatus | str) -> None:
    """Raise IllegalTransition with a sentence an ops person understands."""
    current, target = OrderStatus(current), OrderStatus(target)
    if current == target:
        raise IllegalTransition(f"The order is already {current.label}.")
    if target not in ALLOWED[current]:
        if not ALLOWED[current]:
            raise IllegalTransition(
                f"An order that is {current.label} is final and cannot be moved to {target.label}."
            )
        allowed = ", ".join(sorted(s.label for s in ALLOWED[current]))
        raise IllegalTransition(
            f"An order that is {current.label} cannot be moved to {target.label} "
            f"(it can go to: {allowed})."
        )


class PaymentStatus(LabelledEnum):
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class HoldReason(LabelledEnum):
    PAYMENT = "payment"
    STOCK = "stock"
    ADDRESS = "address"
    REVIEW = "review"
    MANUAL = "manual"
