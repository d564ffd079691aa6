"""Reading returns (RMAs): the queue per status, one return with everything around it,
an order's returns, and the return as the API shows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.domain.enums import DocumentKind, ReturnReason
from app.domain.errors import DomainError, NotFound
from app.domain.order_states import OrderStatus
from app.domain.return_states import FINAL_STATUSES, OPEN_STATUSES, ReturnStatus
from app.domain.returns import HANDLERS, ZERO, ExpectedLine, may_close
from app.domain.roles import Role
from app.extensions import db
from app.models import Customer, Event, Invoice, Location, Order, OrderLine, Refund, Return, ReturnLine, Shipment
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.queries.filters import ListFilters, choice_arg, text_arg
from app.services.returns import refund_preview, returnable_lines
from app.services.returns.closing import credit_plan

OPEN = "open"
ALL = "all"
STATUS_TABS = (ALL, OPEN, *(s.value for s in OPEN_STATUSES), *(s.value for s in FINAL_STATUSES))


@dataclass(frozen=True)
class ReturnFilters(ListFilters):
    status: str | None = None  # a status, "open" (requested, approved, received) or "all" (the default)
    reason: str | None = None
    order: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ReturnFilters:
        return cls(
            status=choice_arg(args, "status", STATUS_TABS),
            reason=choice_arg(args, "reason", ReturnReason.values()),
            order=text_arg(args, "order", 20),
        )

    @property
    def tab(self) -> str:
        return self.status or ALL

    @property
    def statuses(self) -> tuple[str, ...]:
        if self.tab == OPEN:
            return tuple(s.value for s in OPEN_STATUSES)
        if self.tab == ALL:
            return ReturnStatus.values()
        return (self.tab,)

    @property
    def oldest_first(self) -> bool:
        """Work queues show the longest-waiting return first; finished ones the latest first."""
        return all(s in {o.value for o in OPEN_STATUSES} for s in self.statuses)


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {"reason": [(r.value, r.label) for r in ReturnReason]}


def _loaded():
    return (
        select(Return)
        .join(Order, Order.id == Return.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .options(
            contains_eager(Return.order).contains_eager(Order.customer),
            selectinload(Return.lines).joinedload(ReturnLine.line),
            selectinload(Return.lines).selectinload(ReturnLine.receipts),
        )
    )


@dataclass(frozen=True)
class ReturnRow:
    ret: Return

    @property
    def item_count(self) -> int:
        return self.ret.item_count

    @property
    def received_count(self) -> int:
        return self.ret.received_count

    @property
    def value(self) -> Decimal:
        """What the requested units were sold for."""
        return sum((line.line.unit_price * line.qty for line in self.ret.lines), ZERO)

    @property
    def customer(self) -> str:
        return self.ret.order.customer.name

    @property
    def since(self) -> datetime:
        """When it entered the stage it is in: the age the queue shows."""
        ret = self.ret
        moments = {ReturnStatus.REQUESTED: ret.requested_at, ReturnStatus.APPROVED: ret.approved_at,
                   ReturnStatus.RECEIVED: ret.received_at, ReturnStatus.CLOSED: ret.closed_at}
        return moments.get(ReturnStatus(ret.status)) or ret.updated_at or ret.requested_at


def list_returns(filters: ReturnFilters, *, cursor: str | None = None, limit: int | None = None) -> Page[ReturnRow]:
    """The queue: open returns oldest first (numbers are handed out in the order they are
    requested), finished ones newest first."""
    stmt = _loaded().where(Return.status.in_(filters.statuses))
    if filters.reason:
        stmt = stmt.where(Return.reason == filters.reason)
    if filters.order:
        stmt = stmt.where(Order.number == filters.order)
    page = keyset_page(stmt, [Return.id], cursor=cursor, limit=clamp_limit(limit), key=lambda r: [r.id],
                       descending=not filters.oldest_first)
    return Page(items=[ReturnRow(r) for r in page.items], next_cursor=page.next_cursor)


def status_counts() -> dict[str, int]:
    """Returns per status, for the queue's tabs (and the open total)."""
    counts = dict(db.session.execute(select(Return.status, func.count()).group_by(Return.status)).all())
    tabs = {s: int(counts.get(s, 0)) for s in ReturnStatus.values()}
    tabs[OPEN] = sum(tabs[s.value] for s in OPEN_STATUSES)
    tabs[ALL] = sum(counts.values())
    return tabs


# One return -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineView:
    line: ReturnLine

    @property
    def sku(self) -> str:
        return self.line.line.sku

    @property
    def name(self) -> str:
        return self.line.line.name

    @property
    def unit_price(self) -> Decimal:
        return self.line.line.unit_price

    @property
    def received(self) -> int:
        return self.line.qty_received

    @property
    def expected(self) -> ExpectedLine:
        line = self.line
        return ExpectedLine(line.id, self.sku, line.qty, line.qty_received, line.not_returned)

    @property
    def outstanding(self) -> int:
        return self.expected.outstanding


@dataclass(frozen=True)
class Action:
    name: str
    enabled: bool
    reason: str = ""


@dataclass
class ReturnDetail:
    ret: Return
    order: Order
    lines: list[LineView]
    shipments: list[Shipment]
    credit_notes: list[Invoice]
    refunds: list[Refund]
    events: list[Event]
    locations: list[Location]
    actions: dict[str, Action] = field(default_factory=dict)
    refund_value: Decimal | None = None  # the full refund for what arrived, shipping not included
    refund_with_shipping: Decimal | None = None
    refund_problem: str | None = None  # why no credit note can be issued for what arrived
    restock_to: str | None = None  # the location offered first: where the goods left from

    @property
    def decidable(self) -> bool:
        """Approve, reject and cancel belong to a return not yet received."""
        return self.ret.status in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)

    @property
    def refundable(self) -> Decimal:
        return self.order.paid_amount - self.order.refunded_amount

    @property
    def waiting(self) -> list[str]:
        return [f"{v.outstanding} × {v.sku}" for v in self.lines if v.outstanding]


def get_return_detail(number: str, *, role: str | None = None) -> ReturnDetail:
    ret = db.session.scalar(_loaded().where(Return.number == number).options(
        selectinload(Return.refunds), joinedload(Return.exchange_order)))
    if ret is None:
        raise NotFound(f"There is no return {number}.")
    order = ret.order
    detail = ReturnDetail(
        ret=ret,
        order=order,
        lines=[LineView(line) for line in ret.lines],
        shipments=_shipments(order),
        credit_notes=list(db.session.scalars(
            select(Invoice).where(Invoice.id.in_(select(Refund.credit_note_id).where(Refund.return_id == ret.id)),
                                  Invoice.kind == DocumentKind.CREDIT_NOTE)
            .options(joinedload(Invoice.corrects)).order_by(Invoice.id)
        )),
        refunds=list(ret.refunds),
        events=list(db.session.scalars(
            select(Event).where(Event.entity_type == "return", Event.entity_id == ret.number).order_by(Event.id)
        )),
        locations=list(db.session.scalars(select(Location).where(Location.active.is_(True))
                                          .order_by(Location.priority, Location.code))),
    )
    detail.actions = return_actions(detail, role)
    shipped_from = [s.location.code for s in detail.shipments if s.location.active]
    detail.restock_to = shipped_from[0] if shipped_from else None
    if ret.status == ReturnStatus.RECEIVED and not detail.waiting:
        try:
            detail.refund_value = sum((c.value for c in credit_plan(order, ret, include_shipping=False, lock=False)),
                                      ZERO)
        except DomainError as exc:  # no invoice, or its units were credited already
            detail.refund_problem = exc.message
        if order.shipping_price > 0:
            detail.refund_with_shipping = refund_preview(ret, include_shipping=True)
    return detail


def _shipments(order: Order) -> list[Shipment]:
    return list(db.session.scalars(
        select(Shipment).where(Shipment.order_id == order.id)
        .options(joinedload(Shipment.location), selectinload(Shipment.lines))
        .order_by(Shipment.id)
    ))


def return_actions(detail: ReturnDetail, role: str | None) -> dict[str, Action]:
    """What the page offers this person, and why the rest is not offered."""
    status = ReturnStatus(detail.ret.status)
    handler = role is None or Role(role) in HANDLERS

    def offer(name: str, when: bool, why: str, allowed: bool = handler) -> Action:
        if not allowed:
            return Action(name, False, "Your role does not do this.")
        return Action(name, when, "" if when else why)

    stage = f"The return is {status.label}."
    waiting = detail.waiting
    closable = status == ReturnStatus.RECEIVED and not waiting
    close_why = stage if status != ReturnStatus.RECEIVED else f"Still waiting for {', '.join(waiting)}."
    return {
        "approve": offer("approve", status == ReturnStatus.REQUESTED, stage),
        "reject": offer("reject", status == ReturnStatus.REQUESTED, stage),
        "cancel": offer("cancel", status == ReturnStatus.APPROVED, stage),
        "receive": offer("receive", status in (ReturnStatus.APPROVED, ReturnStatus.RECEIVED) and bool(
            [v for v in detail.lines if v.outstanding]), stage if status not in (
                ReturnStatus.APPROVED, ReturnStatus.RECEIVED) else "Everything expected has been recorded."),
        "refund": offer("refund", closable, close_why, allowed=role is None or may_close(role, "refund")),
        "exchange": offer("exchange", closable, close_why, allowed=role is None or may_close(role, "exchange")),
    }


# An order's returns (the order page includes them) -----------------------------------------


@dataclass(frozen=True)
class OrderReturns:
    order: Order
    rows: list[ReturnRow]
    can_create: bool
    why_not: str


def order_returns(order: Order, role: str | None) -> OrderReturns:
    rows = [ReturnRow(r) for r in db.session.scalars(
        _loaded().where(Return.order_id == order.id).order_by(Return.id))]
    shipped = sum(line.qty_shipped for line in order.lines)
    why = ""
    if order.status == OrderStatus.CANCELLED:
        why = "The order is cancelled."
    elif shipped == 0:
        why = "Nothing has shipped yet."
    elif role is not None and Role(role) not in HANDLERS:
        why = "Your role does not open returns."
    elif not any(line.available for line in returnable_lines(order)):
        why = "Every shipped unit is already in a return."
    return OrderReturns(order=order, rows=rows, can_create=not why, why_not=why)


# Opening a return: what each line can still give back -----------------------------------


@dataclass(frozen=True)
class ReturnableView:
    line: OrderLine
    available: int


def returnable(order_number: str) -> tuple[Order, list[ReturnableView]]:
    order = db.session.scalar(select(Order).where(Order.number == order_number).options(selectinload(Order.lines)))
    if order is None:
        raise NotFound(f"There is no order {order_number}.")
    available = {r.line_id: r.available for r in returnable_lines(order)}
    return order, [ReturnableView(line, available.get(line.id, 0)) for line in order.lines]


# The API's view of a return ---------------------------------------------------------------


def return_dict(ret: Return) -> dict:
    """DESIGN.md §6: {number, order, status, reason, lines: [{sku, qty, received: [...]}], refund_total},
    with more fields beside them."""
    return {
        "number": ret.number,
        "order": ret.order.number,
        "status": ret.status,
        "reason": ret.reason,
        "reason_note": ret.reason_note or None,
        "resolution": ret.resolution,
        "version": ret.version,
        "requested_at": ret.requested_at,
        "approved_at": ret.approved_at,
        "received_at": ret.received_at,
        "closed_at": ret.closed_at,
        "lines": [
            {
                "sku": line.line.sku,
                "qty": line.qty,
                "qty_received": line.qty_received,
                "not_returned": line.not_returned,
                "received": [
                    {"qty": r.qty, "condition": r.condition, "disposition": r.disposition,
                     "location": r.location.code if r.location else None, "received_at": r.received_at}
                    for r in line.receipts
                ],
            }
            for line in ret.lines
        ],
        "refund_total": ret.refund_total,
        "refunds": [{"amount": r.amount, "credit_note": r.reference, "method": r.method, "refunded_at": r.refunded_at}
                    for r in ret.refunds],
        "exchange_order": ret.exchange_order.number if ret.exchange_order else None,
    }


def load_for_api(number: str) -> Return:
    """The return as committed now (a service call in this request may have changed it)."""
    db.session.expire_all()
    ret = db.session.scalar(_loaded().where(Return.number == number).options(
        selectinload(Return.refunds), joinedload(Return.exchange_order)))
    if ret is None:
        raise NotFound(f"There is no return {number}.")
    return ret


def list_for_api(*, status: str | None, order: str | None, cursor: str | None, limit: int | None) -> Page[Return]:
    """Returns in number order (oldest first), optionally of one status or one order."""
    stmt = _loaded().options(selectinload(Return.refunds), joinedload(Return.exchange_order))
    if status:
        stmt = stmt.where(Return.status == status)
    if order:
        stmt = stmt.where(Order.number == order)
    return keyset_page(stmt, [Return.id], cursor=cursor, limit=clamp_limit(limit), key=lambda r: [r.id])

