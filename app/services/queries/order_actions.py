"""What a person may do with an order right now, and why not when they may not.

The detail page and the board show every action; the ones the order's state or the
person's role rule out are disabled with a sentence that says why. The rules are the
domain's (ALLOWED) and the services' (fulfillment-only moves, editable addresses);
this module only turns them into something a template can display.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.errors import IllegalTransition
from app.domain.order_states import ALLOWED, HoldReason, OrderStatus, check_transition
from app.domain.roles import Role
from app.models import Order
from app.services.orders import ADDRESS_EDITABLE, FULFILLMENT_ONLY

# Who may change an order on the dashboard; finance only records payments.
ORDER_WRITERS = frozenset({Role.OPS.value, Role.MANAGER.value, Role.ADMIN.value})
PAYMENT_TAKERS = frozenset({Role.OPS.value, Role.FINANCE.value, Role.MANAGER.value, Role.ADMIN.value})
# Hold reasons a person may choose; stock and address holds are put on by the checks.
MANUAL_HOLD_REASONS = (HoldReason.MANUAL, HoldReason.PAYMENT, HoldReason.REVIEW)
RELEASE_TARGETS = (OrderStatus.READY, OrderStatus.NEW)


@dataclass(frozen=True)
class Choice:
    """One option of an action (a status to move to, a hold reason)."""

    value: str
    label: str
    enabled: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    enabled: bool
    reason: str | None = None  # why it is disabled
    choices: tuple[Choice, ...] = field(default_factory=tuple)


class ActionSet:
    """The actions of one order for one person, in display order, also reachable by name."""

    def __init__(self, actions: list[Action]) -> None:
        self._actions = actions
        self._by_name = {a.name: a for a in actions}

    def __iter__(self) -> Iterator[Action]:
        return iter(self._actions)

    def __getitem__(self, name: str) -> Action:
        return self._by_name[name]

    def __getattr__(self, name: str) -> Action:
        try:
            return self._by_name[name]
        except KeyError:
            raise AttributeError(name) from None

    def enabled(self) -> list[str]:
        return [a.name for a in self._actions if a.enabled]


def move_choices(status: str) -> tuple[Choice, ...]:
    """The statuses an order may be moved to from `status`, in board order. Moves that
    only the fulfillment screens can make are listed but disabled, with the reason."""
    allowed = ALLOWED[OrderStatus(status)]
    return tuple(
        Choice(s.value, s.label, enabled=s not in FULFILLMENT_ONLY, reason=FULFILLMENT_ONLY.get(s))
        for s in OrderStatus
        if s in allowed
    )


def _state_refusal(order: Order, target: OrderStatus) -> str | None:
    try:
        check_transition(order.status, target)
    except IllegalTransition as exc:
        return exc.message
    return None


def _role_refusal(role: str, allowed: frozenset[str], doing: str) -> str | None:
    if role in allowed:
        return None
    who = ", ".join(sorted(allowed))
    return f"Your role ({role}) cannot {doing}; {who} can."


def _action(name: str, label: str, refusals: list[str | None], choices: tuple[Choice, ...] = ()) -> Action:
    reason = next((r for r in refusals if r), None)
    return Action(name, label, enabled=reason is None, reason=reason, choices=choices)


def is_paid(order: Order) -> bool:
    return order.paid_amount - order.refunded_amount >= order.total


def order_actions(order: Order, role: str) -> ActionSet:
    """Every action of the detail page for this order and role."""
    status = OrderStatus(order.status)
    due = order.total - order.paid_amount

    moves = move_choices(status)
    if not moves:
        move_state = f"An order that is {status.label} is final."
    elif not any(c.enabled for c in moves):
        move_state = next(c.reason for c in moves if c.reason)
    else:
        move_state = None

    if status == OrderStatus.CANCELLED:
        payment_state = f"{order.number} is cancelled; it takes no payments."
    elif due <= Decimal("0"):
        payment_state = "Paid in full: nothing is due."
    else:
        payment_state = None

    # A held order may change its reason.
    hold_state = None if status == OrderStatus.ON_HOLD else _state_refusal(order, OrderStatus.ON_HOLD)

    paid = is_paid(order)
    release_choices = (
        Choice(OrderStatus.READY.value, OrderStatus.READY.label, enabled=paid,
               reason=None if paid else f"Not paid in full ({order.paid_amount} of {order.total})."),
        Choice(OrderStatus.NEW.value, OrderStatus.NEW.label, enabled=not paid,
               reason="It is paid; release it to ready." if paid else None),
    )
    release_state = None if status == OrderStatus.ON_HOLD else "Only an order on hold can be released."

    address_state = None if status in ADDRESS_EDITABLE else (
        f"{order.number} is {status.label}; its address can no longer change.")

    writer = _role_refusal
    return ActionSet([
        _action("move", "Move", [writer(role, ORDER_WRITERS, "move orders"), move_state], moves),
        _action("payment", "Record payment", [writer(role, PAYMENT_TAKERS, "record payments"), payment_state]),
        _action("hold", "Hold", [writer(role, ORDER_WRITERS, "put orders on hold"), hold_state],
                tuple(Choice(h.value, h.label) for h in MANUAL_HOLD_REASONS)),
        _action("release", "Release", [writer(role, ORDER_WRITERS, "release holds"), release_state], release_choices),
        _action("cancel", "Cancel order", [writer(role, ORDER_WRITERS, "cancel orders"),
                                           _state_refusal(order, OrderStatus.CANCELLED)]),
        _action("address", "Edit address", [writer(role, ORDER_WRITERS, "edit addresses"), address_state]),
    ])
