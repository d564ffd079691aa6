"""Returns (RMAs): open one for shipped units, move it along its state machine (approve,
reject, receive what arrived, cancel, close with a refund or an exchange), read them."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from app.api import schemas as s
from app.auth.access import current_actor, role_required
from app.domain.enums import Disposition, ItemCondition, ReturnReason, ReturnResolution
from app.domain.return_states import ReturnStatus
from app.domain.returns import HANDLERS, REFUNDERS
from app.services import returns as returns_service
from app.services.queries import returns as return_queries

blp = Blueprint("api_returns", __name__, url_prefix="/api/v1/returns", description="Returns (RMAs)")

EVERYONE = ("ops", "finance", "manager", "admin")
HANDLER_ROLES = tuple(sorted(r.value for r in HANDLERS))
# The one transition door serves handlers (approve, receive, exchange) and refunders
# (close with a refund); the service checks the resolution against the role.
TRANSITION_ROLES = tuple(sorted({r.value for r in HANDLERS | REFUNDERS}))


class ReturnLineInSchema(ma.Schema):
    sku = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    qty = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))


class ReturnCreateSchema(ma.Schema):
    order = ma.fields.String(required=True, validate=validate.Length(min=1, max=20))
    lines = ma.fields.List(ma.fields.Nested(ReturnLineInSchema), required=True,
                           validate=validate.Length(min=1, max=500))
    reason = ma.fields.String(required=True, validate=validate.OneOf(ReturnReason.values()))
    reason_note = ma.fields.String(load_default="", validate=validate.Length(max=500),
                                   metadata={"description": "required when the reason is `other`"})
    resolution = ma.fields.String(load_default=ReturnResolution.REFUND.value,
                                  validate=validate.OneOf(ReturnResolution.values()),
                                  metadata={"description": "what the customer would like: refund or exchange"})


class ReturnReceiptInSchema(ma.Schema):
    sku = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    qty = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    disposition = ma.fields.String(required=True, validate=validate.OneOf(Disposition.values()))
    location = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                                metadata={"description": "where restocked units go (an active location)"})
    condition = ma.fields.String(load_default=None, allow_none=True, validate=validate.OneOf(ItemCondition.values()),
                                 metadata={"description": "default: resellable when restocked, damaged when "
                                                          "written off"})


class ReturnRefundInSchema(ma.Schema):
    amount = s.MoneyInput(load_default=None, allow_none=True,
                          metadata={"description": "lower than the received value only, with a reason"})
    include_shipping = ma.fields.Boolean(load_default=False)
    reason = ma.fields.String(load_default="", validate=validate.Length(max=300))
    method = ma.fields.String(load_default="original", validate=validate.Length(min=1, max=40))


class ReturnTransitionSchema(ma.Schema):
    to = ma.fields.String(required=True, validate=validate.OneOf(ReturnStatus.values()))
    version = ma.fields.Integer(load_default=None, allow_none=True,
                                metadata={"description": "the version you saw; a stale one answers 409"})
    lines = ma.fields.List(
        ma.fields.Nested(ReturnReceiptInSchema), load_default=list, validate=validate.Length(max=500),
        metadata={"description": "to=received: what arrived (a SKU may appear twice)"},
    )
    not_returned = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                                  validate=validate.Length(max=500),
                                  metadata={"description": "to=received: SKUs whose remaining units will not "
                                                           "come back"})
    reason = ma.fields.String(load_default="", validate=validate.Length(max=500),
                              metadata={"description": "to=rejected (required), approved, cancelled: a note"})
    resolution = ma.fields.String(load_default=None, allow_none=True,
                                  validate=validate.OneOf(ReturnResolution.values()),
                                  metadata={"description": "to=closed: refund or exchange (default: the one asked "
                                                           "for)"})
    refund = ma.fields.Nested(ReturnRefundInSchema, load_default=None, allow_none=True)


class ReturnReceiptOutSchema(ma.Schema):
    qty = ma.fields.Integer()
    condition = ma.fields.String()
    disposition = ma.fields.String()
    location = ma.fields.String(allow_none=True)
    received_at = ma.fields.AwareDateTime()


class ReturnLineOutSchema(ma.Schema):
    sku = ma.fields.String()
    qty = ma.fields.Integer()
    qty_received = ma.fields.Integer()
    not_returned = ma.fields.Boolean()
    received = ma.fields.List(ma.fields.Nested(ReturnReceiptOutSchema))


class ReturnRefundOutSchema(ma.Schema):
    amount = s.Money()
    credit_note = ma.fields.String()
    method = ma.fields.String()
    refunded_at = ma.fields.AwareDateTime()


class ReturnSchema(ma.Schema):
    number = ma.fields.String()
    order = ma.fields.String()
    status = ma.fields.String()
    reason = ma.fields.String()
    reason_note = ma.fields.String(allow_none=True)
    resolution = ma.fields.String()
    version = ma.fields.Integer()
    requested_at = ma.fields.AwareDateTime()
    approved_at = ma.fields.AwareDateTime(allow_none=True)
    received_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(ReturnLineOutSchema))
    refund_total = s.Money()
    refunds = ma.fields.List(ma.fields.Nested(ReturnRefundOutSchema))
    exchange_order = ma.fields.String(allow_none=True)


class ReturnListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReturnSchema))
    next_cursor = ma.fields.String(allow_none=True)


class ReturnListArgsSchema(s.ListArgsSchema):
    status = ma.fields.String(load_default=None, validate=validate.OneOf(ReturnStatus.values()))
    order = ma.fields.String(load_default=None, validate=validate.Length(max=20))


def _answer(number: str) -> dict:
    return return_queries.return_dict(return_queries.load_for_api(number))


@blp.post("")
@role_required(*HANDLER_ROLES)
@blp.arguments(ReturnCreateSchema)
@blp.response(201, ReturnSchema)
@blp.alt_response(404, schema=s.ErrorSchema, description="No such order")
@blp.alt_response(409, schema=s.ErrorSchema, description="The order has shipped nothing, or is cancelled")
@blp.alt_response(422, schema=s.ErrorSchema, description="More than was shipped minus what other returns hold")
def create_return(body):
    """Open a return (RMA) for units of a shipped order."""
    ret = returns_service.create_return(body["order"], body["lines"], body["reason"], reason_note=body["reason_note"],
                                        resolution=body["resolution"], actor=current_actor())
    return _answer(ret.number), 201


@blp.get("")
@role_required(*EVERYONE)
@blp.arguments(ReturnListArgsSchema, location="query")
@blp.response(200, ReturnListSchema)
def list_returns(args):
    """Returns in number order; `status=` one status, `order=SO-000123` one order's."""
    page = return_queries.list_for_api(status=args["status"], order=args["order"], cursor=args["cursor"],
                                       limit=args["limit"])
    return {"items": [return_queries.return_dict(r) for r in page.items], "next_cursor": page.next_cursor}


@blp.get("/<number>")
@role_required(*EVERYONE)
@blp.response(200, ReturnSchema)
@blp.alt_response(404, schema=s.ErrorSchema)
def get_return(number):
    return _answer(number)


@blp.post("/<number>/transition")
@role_required(*TRANSITION_ROLES)
@blp.arguments(ReturnTransitionSchema)
@blp.response(200, ReturnSchema)
@blp.alt_response(403, schema=s.ErrorSchema, description="A refund by ops, an exchange by finance")
@blp.alt_response(404, schema=s.ErrorSchema)
@blp.alt_response(409, schema=s.ErrorSchema, description="Illegal transition, stale version, lines still awaited")
@blp.alt_response(422, schema=s.ErrorSchema, description="Bad receipt, inactive location, refund too high")
def transition(body, number):
    """Approve, reject, receive (again while received), cancel or close a return."""
    returns_service.transition(number, body["to"], actor=current_actor(), expected_version=body["version"],
                               lines=body["lines"], not_returned=body["not_returned"], reason=body["reason"],
                               resolution=body["resolution"], refund=body["refund"])
    return _answer(number)
