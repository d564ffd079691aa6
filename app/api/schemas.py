"""Marshmallow schemas: the documented request and response shapes (DESIGN.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import marshmallow as ma
from marshmallow import validate


class ErrorSchema(ma.Schema):
    error = ma.fields.String(required=True, metadata={"description": "machine-readable code"})
    message = ma.fields.String(required=True, metadata={"description": "for a person"})
    details = ma.fields.Raw(metadata={"description": "per-field messages or context"})


class ListArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = ma.fields.String(load_default=None)


class DecimalString(ma.fields.Decimal):
    """A decimal sent as a string ("21.00"); documented as such (app.api registers the OpenAPI type)."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)


class Money(DecimalString):
    """A decimal string on the wire ("19.90"), never a float."""

    def __init__(self, **kwargs):
        super().__init__(places=2, **kwargs)


# The largest single amount a client may send; order totals are checked against the
# database's Numeric(14, 2) separately. Beyond it an amount is a typo or an attack.
MAX_AMOUNT = Decimal("100000000.00")
MAX_TOTAL = Decimal("999999999999.99")
EARLIEST_PLACED_AT = datetime(2000, 1, 1, tzinfo=UTC)
# Integers the database stores in 32-bit columns; a bigger number is a typo (or a probe).
MAX_STOCK_QTY = 1_000_000
MAX_WEIGHT_G = 10_000_000
VERSION = validate.Range(min=0, max=2**31 - 1)
LATEST_PLACED_AT = datetime(2100, 1, 1, tzinfo=UTC)


class MoneyInput(DecimalString):
    """An amount as sent by a client: at most two decimals, never rounded silently."""

    default_error_messages = {
        "too_precise": "Use at most two decimals.",
        "negative": "Must be zero or more.",
        "too_large": f"Must be at most {MAX_AMOUNT:,}.",
    }

    def __init__(self, **kwargs):
        metadata = {"pattern": r"^\d{1,8}(\.\d{1,2})?$", "example": "19.90", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            value = repr(value)  # 19.9 -> "19.9", not 19.899999…
        amount = super()._deserialize(value, attr, data, **kwargs)
        if amount < 0:
            raise self.make_error("negative")
        if amount > MAX_AMOUNT:  # before quantize(): 1e104 has more digits than the context allows
            raise self.make_error("too_large")
        if amount != amount.quantize(Decimal("0.01")):
            raise self.make_error("too_precise")
        return amount.quantize(Decimal("0.01"))


class ProductSchema(ma.Schema):
    sku = ma.fields.String()
    name = ma.fields.String()
    unit_price = Money()
    active = ma.fields.Boolean()
    barcode = ma.fields.String(allow_none=True)
    weight_g = ma.fields.Integer(allow_none=True)
    tax_rate = DecimalString(places=2)


class ProductCreateSchema(ma.Schema):
    sku = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit_price = MoneyInput(required=True)
    barcode = ma.fields.String(load_default=None, validate=validate.Length(max=64))
    weight_g = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_WEIGHT_G))


class ProductListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ProductSchema))
    next_cursor = ma.fields.String(allow_none=True)


class LocationSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    regions = ma.fields.List(ma.fields.String())
    priority = ma.fields.Integer()
    timezone = ma.fields.String()
    active = ma.fields.Boolean()


class LocationCreateSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = ma.fields.String(load_default="warehouse", validate=validate.OneOf(["warehouse", "store", "3pl"]))
    regions = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=20)), load_default=list)
    priority = ma.fields.Integer(load_default=100, validate=validate.Range(min=0, max=10_000))
    timezone = ma.fields.String(load_default="UTC", validate=validate.Length(min=1, max=64))


class LocationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LocationSchema))
    next_cursor = ma.fields.String(allow_none=True)


class ChannelSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    dispatch_sla_hours = ma.fields.Integer()
    active = ma.fields.Boolean()


class ChannelCreateSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = ma.fields.String(
        load_default="webstore", validate=validate.OneOf(["webstore", "marketplace", "wholesale", "pos"])
    )
    dispatch_sla_hours = ma.fields.Integer(load_default=72, validate=validate.Range(min=1, max=1440))


class ChannelListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ChannelSchema))
    next_cursor = ma.fields.String(allow_none=True)


class StockArgsSchema(ListArgsSchema):
    sku = ma.fields.String(load_default=None)
    location = ma.fields.String(load_default=None)


class StockLevelSchema(ma.Schema):
    sku = ma.fields.String()
    location = ma.fields.String()
    on_hand = ma.fields.Integer()
    reserved = ma.fields.Integer()
    available = ma.fields.Integer()


class StockListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StockLevelSchema))
    next_cursor = ma.fields.String(allow_none=True)


# Orders ----------------------------------------------------------------------------

COUNTRY = validate.Regexp(r"^[A-Za-z]{2}$", error="Use a two-letter country code such as NL.")
CURRENCY = validate.Regexp(r"^[A-Za-z]{3}$", error="Use a three-letter currency code such as EUR.")


class CustomerInSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = ma.fields.Email(required=True)


class ShipToSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    line1 = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    city = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    region = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=120))
    postcode = ma.fields.String(required=True, validate=validate.Length(min=1, max=20))
    country = ma.fields.String(required=True, validate=COUNTRY)


class LineInSchema(ma.Schema):
    sku = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    qty = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    unit_price = MoneyInput(required=True)


class OrderCreateSchema(ma.Schema):
    channel = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))
    external_id = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    placed_at = ma.fields.AwareDateTime(load_default=None, default_timezone=None)
    customer = ma.fields.Nested(CustomerInSchema, required=True)
    ship_to = ma.fields.Nested(ShipToSchema, required=True)
    lines = ma.fields.List(ma.fields.Nested(LineInSchema), required=True, validate=validate.Length(min=1, max=500))
    shipping_price = MoneyInput(load_default=None, allow_none=True)
    currency = ma.fields.String(load_default=None, allow_none=True, validate=CURRENCY)

    @ma.validates("placed_at")
    def _placed_in_this_era(self, value, **kwargs):
        # SLA deadlines are computed from it: year 9999 would overflow, year 1 is a typo.
        if value is not None and not EARLIEST_PLACED_AT <= value <= LATEST_PLACED_AT:
            raise ma.ValidationError("Must be between 2000 and 2100.")

    @ma.validates_schema
    def _total_fits(self, data, **kwargs):
        total = sum((line["qty"] * line["unit_price"] for line in data.get("lines", [])), Decimal(0))
        if total + (data.get("shipping_price") or 0) > MAX_TOTAL:
            raise ma.ValidationError(f"The order total must be at most {MAX_TOTAL:,}.", "lines")


class OrderLineSchema(ma.Schema):
    sku = ma.fields.String()
    name = ma.fields.String()
    qty = ma.fields.Integer()
    unit_price = Money()
    qty_allocated = ma.fields.Integer()
    qty_shipped = ma.fields.Integer()
    qty_returned = ma.fields.Integer()


class AllocationOutSchema(ma.Schema):
    sku = ma.fields.String()
    location = ma.fields.String()
    qty = ma.fields.Integer()


class ShipmentLineOutSchema(ma.Schema):
    sku = ma.fields.String()
    qty = ma.fields.Integer()


class ShipmentOutSchema(ma.Schema):
    number = ma.fields.String()
    location = ma.fields.String()
    status = ma.fields.String()
    carrier = ma.fields.String(allow_none=True)
    tracking_number = ma.fields.String(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(ShipmentLineOutSchema))


class ClockOutSchema(ma.Schema):
    kind = ma.fields.String()
    state = ma.fields.String()
    due_at = ma.fields.AwareDateTime()
    warn_at = ma.fields.AwareDateTime(allow_none=True)


class EventOutSchema(ma.Schema):
    action = ma.fields.String()
    from_state = ma.fields.String(allow_none=True)
    to_state = ma.fields.String(allow_none=True)
    actor = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    details = ma.fields.Raw(allow_none=True)


class OrderSchema(ma.Schema):
    number = ma.fields.String()
    channel = ma.fields.String()
    external_id = ma.fields.String()
    status = ma.fields.String()
    payment_status = ma.fields.String()
    hold_reason = ma.fields.String(allow_none=True)
    hold_note = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    currency = ma.fields.String()
    total = Money()
    tax_total = Money()
    shipping_price = Money()
    paid_amount = Money()
    placed_at = ma.fields.AwareDateTime()
    paid_at = ma.fields.AwareDateTime(allow_none=True)
    ship_by = ma.fields.AwareDateTime(allow_none=True)
    customer = ma.fields.Dict()
    ship_to = ma.fields.Dict()
    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema))
    allocations = ma.fields.List(ma.fields.Nested(AllocationOutSchema))
    shipments = ma.fields.List(ma.fields.Nested(ShipmentOutSchema))
    clocks = ma.fields.List(ma.fields.Nested(ClockOutSchema))
    events = ma.fields.List(ma.fields.Nested(EventOutSchema))


class OrderSummarySchema(ma.Schema):
    number = ma.fields.String()
    channel = ma.fields.String()
    external_id = ma.fields.String()
    status = ma.fields.String()
    payment_status = ma.fields.String()
    hold_reason = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    currency = ma.fields.String()
    total = Money()
    placed_at = ma.fields.AwareDateTime()
    paid_at = ma.fields.AwareDateTime(allow_none=True)
    ship_by = ma.fields.AwareDateTime(allow_none=True)


class OrderListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OrderSummarySchema))
    next_cursor = ma.fields.String(allow_none=True)


class OrderListArgsSchema(ListArgsSchema):
    status = ma.fields.String(load_default=None)
    channel = ma.fields.String(load_default=None)
    q = ma.fields.String(load_default=None, validate=validate.Length(max=100))


class PaymentInSchema(ma.Schema):
    amount = MoneyInput(required=True)
    method = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))
    reference = ma.fields.String(load_default="", validate=validate.Length(max=120))


class TransitionInSchema(ma.Schema):
    to = ma.fields.String(required=True)
    version = ma.fields.Integer(load_default=None, allow_none=True, validate=VERSION)
    reason = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class CancelInSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))
    version = ma.fields.Integer(load_default=None, allow_none=True, validate=VERSION)


# Stock actions ---------------------------------------------------------------------


class ReceiptInSchema(ma.Schema):
    location = ma.fields.String(required=True)
    sku = ma.fields.String(required=True)
    qty = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_STOCK_QTY))
    reference = ma.fields.String(load_default="", validate=validate.Length(max=64))


class AdjustmentInSchema(ma.Schema):
    location = ma.fields.String(required=True)
    sku = ma.fields.String(required=True)
    delta = ma.fields.Integer(required=True, strict=True,
                              validate=validate.Range(min=-MAX_STOCK_QTY, max=MAX_STOCK_QTY))
    reason = ma.fields.String(required=True, validate=validate.OneOf(["count", "damage", "loss", "found"]))
    note = ma.fields.String(load_default="", validate=validate.Length(max=150))


class TransferInSchema(ma.Schema):
    from_location = ma.fields.String(required=True)
    to_location = ma.fields.String(required=True)
    sku = ma.fields.String(required=True)
    qty = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_STOCK_QTY))
    reference = ma.fields.String(load_default="", validate=validate.Length(max=64))


class StockItemsSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(StockLevelSchema))
