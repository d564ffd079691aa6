"""One invoice per shipment that left, as issued at the moment it shipped.

Prices are tax-inclusive: each line's VAT is the tax contained at its rate;
shipping is charged on the order's first parcel and follows the highest rate
on the order (the main supply). The snapshot is what the PDF prints and is
never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.services.demo import reference as ref
from app.services.demo.plans import OrderPlan, ShipmentPlan, tax_contained


@dataclass(slots=True, eq=False)
class InvoicePlan:
    shipment: ShipmentPlan
    issued_at: datetime
    lines: list[dict]
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    id: int = 0
    number: str = ""

    @property
    def order(self) -> OrderPlan:
        return self.shipment.order


def plan_invoices(orders: list[OrderPlan]) -> list[InvoicePlan]:
    invoices = []
    for order in orders:
        parcels = sorted((s for s in order.shipments if s.shipped_at), key=lambda s: s.shipped_at)
        for i, shipment in enumerate(parcels):
            lines = [_line((line.product.sku, line.product.name), qty, line.unit_price, line.tax_rate)
                     for line, qty in shipment.items]
            if i == 0 and order.shipping_price:
                rate = max(line.tax_rate for line in order.lines)
                lines.append(_line((None, "Shipping"), 1, order.shipping_price, rate))
            total = sum((Decimal(x["total"]) for x in lines), Decimal("0.00"))
            tax = sum((Decimal(x["tax"]) for x in lines), Decimal("0.00"))
            shipment.invoice = InvoicePlan(shipment=shipment, issued_at=shipment.shipped_at, lines=lines,
                                           net_total=total - tax, tax_total=tax, total=total)
            invoices.append(shipment.invoice)
    invoices.sort(key=lambda inv: inv.issued_at)
    return invoices


def _line(sku_name: tuple[str | None, str], qty: int, unit_price: Decimal, rate: Decimal) -> dict:
    gross = unit_price * qty
    return {"sku": sku_name[0], "name": sku_name[1], "qty": qty, "unit_price": str(unit_price),
            "tax_rate": str(rate), "total": str(gross), "tax": str(tax_contained(gross, rate))}


def snapshot(invoice: InvoicePlan, seller_name: str) -> dict:
    order, shipment = invoice.order, invoice.shipment
    taxes: dict[str, dict[str, Decimal]] = {}
    for line in invoice.lines:
        bucket = taxes.setdefault(line["tax_rate"], {"gross": Decimal("0.00"), "tax": Decimal("0.00")})
        bucket["gross"] += Decimal(line["total"])
        bucket["tax"] += Decimal(line["tax"])
    address = order.address
    return {
        "number": invoice.number,
        "kind": "invoice",
        "issued_at": invoice.issued_at.isoformat(),
        "order": order.number,
        "external_id": order.external_id,
        "channel": order.channel["code"],
        "shipment": shipment.number,
        "currency": order.currency,
        "prices_include_tax": True,
        "seller": {"name": seller_name, **ref.SELLER},
        "buyer": {"name": order.customer.name, "email": order.customer.email},
        "ship_to": {key.removeprefix("ship_"): value for key, value in address.items()},
        "lines": invoice.lines,
        "taxes": [{"rate": rate, "net": str(b["gross"] - b["tax"]), "tax": str(b["tax"]), "gross": str(b["gross"])}
                  for rate, b in sorted(taxes.items(), key=lambda kv: Decimal(kv[0]), reverse=True)],
        "totals": {"net": str(invoice.net_total), "tax": str(invoice.tax_total), "total": str(invoice.total)},
    }
