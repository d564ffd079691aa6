"""The managers' returns report: return rate by product and by channel, returns by reason,
and refund totals, over whole days in the business timezone (at most 92 of them).

Rates compare units returned (in returns requested in the period that were not rejected
or cancelled) with units shipped (in shipments that left in the period): the two sets
overlap but are not the same units, as in every rolling return-rate figure. Read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from app.domain.enums import ReturnReason
from app.domain.return_states import RELEASED_STATUSES
from app.domain.returns import return_rate
from app.extensions import db
from app.models import Channel, Order, OrderLine, Refund, Return, ReturnLine, Shipment, ShipmentLine
from app.services.queries.sla_reports import ReportRange

COUNTED = ~Return.status.in_([s.value for s in RELEASED_STATUSES])


@dataclass(frozen=True)
class RateRow:
    key: str  # SKU or channel code
    name: str
    shipped: int
    returned: int

    @property
    def rate(self) -> Decimal | None:
        return return_rate(self.returned, self.shipped)


@dataclass(frozen=True)
class ReasonRow:
    reason: str
    returns: int
    units: int
    share: Decimal | None  # of all units returned in the period, percent

    @property
    def label(self) -> str:
        return ReturnReason(self.reason).label


@dataclass(frozen=True)
class RefundTotal:
    currency: str
    refunds: int
    amount: Decimal


@dataclass(frozen=True)
class ReturnsReport:
    period: ReportRange
    by_product: list[RateRow]
    by_channel: list[RateRow]
    by_reason: list[ReasonRow]
    refunds: list[RefundTotal]

    @property
    def returned_products(self) -> list[RateRow]:
        """The page lists the products that came back; the CSV has every product shipped."""
        return [row for row in self.by_product if row.returned]

    @property
    def products_without_returns(self) -> int:
        return sum(1 for row in self.by_product if not row.returned)


def _window(period: ReportRange):
    bounds = period.bounds()
    return bounds[0], bounds[-1]


def _rates(shipped: dict[str, int], returned: dict[str, int], names: dict[str, str]) -> list[RateRow]:
    rows = [RateRow(key, names.get(key, key), shipped.get(key, 0), returned.get(key, 0))
            for key in set(shipped) | set(returned)]
    # Most returned first, then the highest rate: what a manager looks into first.
    return sorted(rows, key=lambda r: (-r.returned, -(r.rate or 0), r.key))


def by_product(period: ReportRange) -> list[RateRow]:
    start, end = _window(period)
    shipped = dict(db.session.execute(
        select(OrderLine.sku, func.sum(ShipmentLine.qty))
        .join(ShipmentLine, ShipmentLine.order_line_id == OrderLine.id)
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.shipped_at >= start, Shipment.shipped_at < end)
        .group_by(OrderLine.sku)
    ).all())
    returned = dict(db.session.execute(
        select(OrderLine.sku, func.sum(ReturnLine.qty))
        .join(ReturnLine, ReturnLine.order_line_id == OrderLine.id)
        .join(Return, Return.id == ReturnLine.return_id)
        .where(Return.requested_at >= start, Return.requested_at < end, COUNTED)
        .group_by(OrderLine.sku)
    ).all())
    names = dict(db.session.execute(
        select(OrderLine.sku, func.max(OrderLine.name)).where(OrderLine.sku.in_(set(shipped) | set(returned)))
        .group_by(OrderLine.sku)
    ).all()) if shipped or returned else {}
    return _rates({k: int(v) for k, v in shipped.items()}, {k: int(v) for k, v in returned.items()}, names)


def by_channel(period: ReportRange) -> list[RateRow]:
    start, end = _window(period)
    shipped = dict(db.session.execute(
        select(Channel.code, func.sum(ShipmentLine.qty))
        .join(Order, Order.channel_id == Channel.id)
        .join(Shipment, Shipment.order_id == Order.id)
        .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
        .where(Shipment.shipped_at >= start, Shipment.shipped_at < end)
        .group_by(Channel.code)
    ).all())
    returned = dict(db.session.execute(
        select(Channel.code, func.sum(ReturnLine.qty))
        .join(Order, Order.channel_id == Channel.id)
        .join(Return, Return.order_id == Order.id)
        .join(ReturnLine, ReturnLine.return_id == Return.id)
        .where(Return.requested_at >= start, Return.requested_at < end, COUNTED)
        .group_by(Channel.code)
    ).all())
    names = dict(db.session.execute(select(Channel.code, Channel.name)).all())
    return _rates({k: int(v) for k, v in shipped.items()}, {k: int(v) for k, v in returned.items()}, names)


def by_reason(period: ReportRange) -> list[ReasonRow]:
    start, end = _window(period)
    units = (select(ReturnLine.return_id, func.sum(ReturnLine.qty).label("units"))
             .group_by(ReturnLine.return_id).subquery())
    rows = db.session.execute(
        select(Return.reason, func.count(Return.id), func.coalesce(func.sum(units.c.units), 0))
        .join(units, units.c.return_id == Return.id)
        .where(Return.requested_at >= start, Return.requested_at < end, COUNTED)
        .group_by(Return.reason)
    ).all()
    total = sum(int(n) for _, _, n in rows)
    out = [ReasonRow(reason, int(count), int(n), return_rate(int(n), total)) for reason, count, n in rows]
    order = {r: i for i, r in enumerate(ReturnReason.values())}
    return sorted(out, key=lambda r: (-r.units, order[r.reason]))


def refund_totals(period: ReportRange) -> list[RefundTotal]:
    start, end = _window(period)
    rows = db.session.execute(
        select(Order.currency, func.count(Refund.id), func.sum(Refund.amount))
        .join(Order, Order.id == Refund.order_id)
        .where(Refund.refunded_at >= start, Refund.refunded_at < end)
        .group_by(Order.currency).order_by(Order.currency)
    ).all()
    return [RefundTotal(currency, int(count), Decimal(amount or 0).quantize(Decimal("0.01")))
            for currency, count, amount in rows]


def returns_report(period: ReportRange) -> ReturnsReport:
    return ReturnsReport(period=period, by_product=by_product(period), by_channel=by_channel(period),
                         by_reason=by_reason(period), refunds=refund_totals(period))


def _pct(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def csv_rows(report: ReturnsReport) -> Iterator[list]:
    """One sheet: a `section` column says which table a row belongs to."""
    yield ["section", "key", "name", "shipped", "returned", "return_rate_pct", "returns", "refund_total", "currency"]
    for row in report.by_product:
        yield ["product", row.key, row.name, row.shipped, row.returned, _pct(row.rate), "", "", ""]
    for row in report.by_channel:
        yield ["channel", row.key, row.name, row.shipped, row.returned, _pct(row.rate), "", "", ""]
    for row in report.by_reason:
        yield ["reason", row.reason, row.label, "", row.units, _pct(row.share), row.returns, "", ""]
    for total in report.refunds:
        yield ["refunds", total.currency, "", "", "", "", total.refunds, str(total.amount), total.currency]
