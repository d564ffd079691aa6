"""Shipments and documents: ship what is packed, record deliveries, list invoices.

Only packed goods ship: an order that was never waved and packed in OrderDeck (a 3PL
integration shipping on its own) answers 409, so the ledger and the invoice always
follow what was scanned into the box.
"""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from app.api import schemas as s
from app.auth.access import current_actor, role_required
from app.domain.carriers import CARRIERS
from app.domain.enums import DocumentKind
from app.services import orders_read
from app.services.fulfillment import shipping
from app.services.queries import documents as document_queries

shipments = Blueprint("api_shipments", __name__, url_prefix="/api/v1", description="Shipments")
invoices = Blueprint("api_invoices", __name__, url_prefix="/api/v1/invoices", description="Invoices and credit notes")

WRITERS = ("ops", "manager", "admin")
FINANCE = ("finance", "manager", "admin")


class ShipLineInSchema(ma.Schema):
    sku = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    qty = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))


class ShipmentInSchema(ma.Schema):
    carrier = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "one of " + ", ".join(CARRIERS)},
    )
    tracking_number = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "checked against the carrier's format"},
    )
    lines = ma.fields.List(
        ma.fields.Nested(ShipLineInSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "ship only these units of what is packed; all of it when absent"},
    )
    shipment = ma.fields.String(
        load_default=None, allow_none=True, metadata={"description": "ship only this packed shipment of the order"}
    )


class InvoiceSchema(ma.Schema):
    number = ma.fields.String()
    kind = ma.fields.String()
    order = ma.fields.String()
    issued_at = ma.fields.AwareDateTime()
    total = s.Money()
    net_total = s.Money()
    tax_total = s.Money()
    currency = ma.fields.String()
    shipment = ma.fields.String(allow_none=True)
    corrects = ma.fields.String()


class InvoiceListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(InvoiceSchema))
    next_cursor = ma.fields.String(allow_none=True)


class InvoiceListArgsSchema(s.ListArgsSchema):
    order = ma.fields.String(load_default=None, validate=validate.Length(max=20))
    kind = ma.fields.String(load_default=None, validate=validate.OneOf(DocumentKind.values()))


@shipments.post("/orders/<number>/shipments")
@role_required(*WRITERS)
@shipments.arguments(ShipmentInSchema)
@shipments.response(201, s.OrderSchema)
@shipments.alt_response(404, schema=s.ErrorSchema)
@shipments.alt_response(409, schema=s.ErrorSchema, description="The order is not packed")
@shipments.alt_response(422, schema=s.ErrorSchema, description="Bad tracking number, or more than is packed")
def create_shipment(body, number):
    """Ship all, or part, of what is packed for the order; issues the invoice in the same transaction."""
    shipping.ship_order(
        number,
        carrier=body["carrier"],
        tracking_number=body["tracking_number"],
        lines=body["lines"],
        shipment_number=body["shipment"],
        actor=current_actor(),
    )
    return orders_read.order_dict(orders_read.load_full(number)), 201


@shipments.post("/shipments/<number>/deliver")
@role_required(*WRITERS)
@shipments.response(200, s.OrderSchema)
@shipments.alt_response(404, schema=s.ErrorSchema)
@shipments.alt_response(409, schema=s.ErrorSchema, description="Not shipped, or already delivered")
def deliver(number):
    """The carrier delivered this shipment; answers with its order (delivered once every parcel is)."""
    shipment = shipping.mark_delivered(number, actor=current_actor())
    return orders_read.order_dict(orders_read.load_full(shipment.order.number))


@invoices.get("")
@role_required(*FINANCE)
@invoices.arguments(InvoiceListArgsSchema, location="query")
@invoices.response(200, InvoiceListSchema)
def list_invoices(args):
    """Invoices and credit notes, oldest first; `order=SO-000123` for one order's."""
    page = document_queries.list_for_api(
        order=args["order"], kind=args["kind"], cursor=args["cursor"], limit=args["limit"]
    )
    return {"items": [document_queries.document_dict(d) for d in page.items], "next_cursor": page.next_cursor}


@invoices.get("/<number>")
@role_required(*FINANCE)
@invoices.response(200, InvoiceSchema)
@invoices.alt_response(404, schema=s.ErrorSchema)
def get_invoice(number):
    return document_queries.document_dict(document_queries.get_document(number))
