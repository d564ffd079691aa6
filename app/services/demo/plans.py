"""The plans the demo builds in memory before anything is written: orders, lines, shipments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from app.domain.order_states import PaymentStatus
from app.services.demo import reference as ref
from app.services.demo.catalog import ProductPlan
from app.services.demo.people import CustomerPlan

CENT = Decimal("0.01")


def tax_contained(gross: Decimal, rate: Decimal) -> Decimal:
    """VAT inside a tax-inclusive amount, rounded half up to the cent."""
    return (gross * rate / (100 + rate)).quantize(CENT, ROUND_HALF_UP)


@dataclass(slots=True, eq=False)
class LinePlan:
    line_no: int
    product: ProductPlan
    qty: int
    unit_price: Decimal
    tax_rate: Decimal
    location: str | None = None  # where it is allocated and shipped from; None = waiting for stock
    allocated: int = 0
    shipped: int = 0
    id: int = 0

    @property
    def gross(self) -> Decimal:
        return self.unit_price * self.qty

    @property
    def tax(self) -> Decimal:
        return tax_contained(self.gross, self.tax_rate)


@dataclass(slots=True, eq=False)
class ShipmentPlan:
    order: OrderPlan
    location: str
    items: list[tuple[LinePlan, int]]
    status: str
    picked_at: datetime  # picking started
    packed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    carrier: str
    tracking_number: str | None
    created_at: datetime | None = None
    wave: object = None
    invoice: object = None
    id: int = 0
    number: str = ""


@dataclass(slots=True, eq=False)
class OrderPlan:
    channel: dict
    customer: CustomerPlan
    address: dict
    status: str
    hold_reason: str | None
    priority: int = 0
    lines: list[LinePlan] = field(default_factory=list)
    shipping_price: Decimal = Decimal("0.00")
    subtotal: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    placed_at: datetime | None = None
    paid_at: datetime | None = None
    ship_by: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    held_at: datetime | None = None
    held_by: str | None = None
    hold_note: str | None = None
    address_status: str = "ok"
    payment_status: str = PaymentStatus.UNPAID
    paid_amount: Decimal = Decimal("0.00")
    refunded_amount: Decimal = Decimal("0.00")
    payments: list[dict] = field(default_factory=list)
    refunds: list[dict] = field(default_factory=list)
    shipments: list[ShipmentPlan] = field(default_factory=list)
    clocks: list[dict] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)  # (at, action, from, to, details)
    cancel_kind: str | None = None  # auto (not paid in time), unpaid, refunded
    id: int = 0
    number: str = ""
    external_id: str = ""

    @property
    def country(self) -> str:
        return self.address["ship_country"]

    @property
    def currency(self) -> str:
        return ref.CURRENCIES.get(self.country, "EUR")

    @property
    def updated_at(self) -> datetime:
        return max(e[0] for e in self.events)
