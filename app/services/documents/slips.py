"""Warehouse paperwork: the packing slip of a parcel and the pick list of a wave, as PDFs.

Unlike invoices these are printed from the current state (a reprint of a packing
slip should show what is in the box now)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from app.domain.carriers import carrier_name
from app.domain.enums import ShipmentStatus
from app.domain.errors import Conflict
from app.services.documents import render
from app.services.invoicing import seller
from app.services.queries.fulfillment import shipment_detail, wave_detail


def local_time(value: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


def packing_slip(shipment_number: str) -> dict:
    detail = shipment_detail(shipment_number)
    shipment = detail.shipment
    if detail.stage not in ("shipping", "shipped"):
        raise Conflict(
            f"{shipment.number} is {ShipmentStatus(shipment.status).label}; its packing slip is ready "
            f"once every unit is scanned."
        )
    first = detail.parcel[0].order
    place = " ".join(p for p in (first.ship_postcode, first.ship_city) if p)
    orders = []
    for member in detail.parcel:
        lines = [{"sku": r.sku, "name": r.name, "qty": r.line.qty} for r in detail.rows if r.shipment.id == member.id]
        orders.append(
            {
                "number": member.order.number,
                "external_id": member.order.external_id,
                "shipment": member.number,
                "lines": lines,
            }
        )
    return {
        "number": shipment.parcel_group or shipment.number,
        "date": local_time(shipment.packed_at or shipment.created_at, "%Y-%m-%d"),
        "location": f"{shipment.location.name} ({shipment.location.code})",
        "carrier": carrier_name(shipment.carrier),
        "tracking_number": shipment.tracking_number,
        "seller": seller(),
        "ship_to": [
            p
            for p in (first.ship_name, first.ship_line1, first.ship_line2, place, first.ship_region, first.ship_country)
            if p
        ],
        "orders": orders,
        "units": sum(line["qty"] for order in orders for line in order["lines"]),
    }


def packing_slip_pdf(shipment_number: str) -> bytes:
    return render.packing_slip_pdf(packing_slip(shipment_number))


def pick_list(wave_number: str) -> dict:
    detail = wave_detail(wave_number)
    wave = detail.wave
    return {
        "number": wave.number,
        "location": f"{wave.location.name} ({wave.location.code})",
        "created": local_time(wave.created_at),
        "created_by": wave.created_by,
        "orders": len(detail.shipments),
        "units": detail.units,
        "rows": detail.rows,
    }


def pick_list_pdf(wave_number: str) -> bytes:
    return render.pick_list_pdf(pick_list(wave_number))
