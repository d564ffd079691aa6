"""Orders: intake, reading, payments, the state machine."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api import schemas as s
from app.auth.access import current_actor, role_required
from app.services import orders, orders_read

blp = Blueprint("api_orders", __name__, url_prefix="/api/v1/orders", description="Orders")

WRITERS = ("ops", "manager", "admin")


@blp.post("")
@role_required(*WRITERS)
@blp.arguments(s.OrderCreateSchema)
@blp.response(201, s.OrderSchema)
@blp.alt_response(200, schema=s.OrderSchema, description="The same order was already received")
@blp.alt_response(409, schema=s.ErrorSchema, description="Same channel + external_id, different content")
@blp.alt_response(422, schema=s.ErrorSchema)
def create_order(body):
    """Create an order; idempotent on channel + external_id."""
    order, created = orders.create_order(body, actor=current_actor(), source="api")
    return orders_read.order_dict(orders_read.load_full(order.number)), 201 if created else 200


@blp.get("")
@blp.arguments(s.OrderListArgsSchema, location="query")
@blp.response(200, s.OrderListSchema)
def list_orders(args):
    page = orders_read.list_orders(status=args["status"], channel=args["channel"], q=args["q"],
                                   cursor=args["cursor"], limit=args["limit"])
    return {"items": [orders_read.summary_dict(o) for o in page.items], "next_cursor": page.next_cursor}


@blp.get("/<number>")
@blp.response(200, s.OrderSchema)
@blp.alt_response(404, schema=s.ErrorSchema)
def get_order(number):
    return orders_read.order_dict(orders_read.load_full(number))


@blp.post("/<number>/payments")
@role_required("ops", "finance", "manager", "admin")
@blp.arguments(s.PaymentInSchema)
@blp.response(201, s.OrderSchema)
@blp.alt_response(404, schema=s.ErrorSchema)
@blp.alt_response(409, schema=s.ErrorSchema)
@blp.alt_response(422, schema=s.ErrorSchema)
def record_payment(body, number):
    orders.record_payment(number, body["amount"], method=body["method"], reference=body["reference"],
                          actor=current_actor())
    return orders_read.order_dict(orders_read.load_full(number))


@blp.post("/<number>/transition")
@role_required(*WRITERS)
@blp.arguments(s.TransitionInSchema)
@blp.response(200, s.OrderSchema)
@blp.alt_response(404, schema=s.ErrorSchema)
@blp.alt_response(409, schema=s.ErrorSchema, description="Illegal transition or stale version")
@blp.alt_response(422, schema=s.ErrorSchema)
def transition(body, number):
    orders.transition(number, body["to"], actor=current_actor(), expected_version=body["version"],
                      reason=body["reason"])
    return orders_read.order_dict(orders_read.load_full(number))


@blp.post("/<number>/cancel")
@role_required(*WRITERS)
@blp.arguments(s.CancelInSchema)
@blp.response(200, s.OrderSchema)
@blp.alt_response(404, schema=s.ErrorSchema)
@blp.alt_response(409, schema=s.ErrorSchema)
def cancel(body, number):
    orders.cancel(number, reason=body["reason"], actor=current_actor(), expected_version=body["version"])
    return orders_read.order_dict(orders_read.load_full(number))
