"""Notifications (the outbox), newest first: `GET /api/v1/notifications?order=&status=&kind=`."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from app.api import schemas as s
from app.domain.enums import NotificationKind, NotificationStatus
from app.services import notifications
from app.services.notifications import NotificationFilters

blp = Blueprint("api_notifications", __name__, url_prefix="/api/v1/notifications", description="Notifications")


class NotificationArgsSchema(s.ListArgsSchema):
    order = ma.fields.String(load_default=None, metadata={"description": "an order number, e.g. SO-000123"})
    status = ma.fields.String(load_default=None, validate=validate.OneOf(NotificationStatus.values()))
    kind = ma.fields.String(load_default=None, validate=validate.OneOf(NotificationKind.values()))


class NotificationSchema(ma.Schema):
    kind = ma.fields.String()
    order = ma.fields.String(allow_none=True)
    dedup_key = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending, sent, failed (will retry) or dead (gave up)"})
    created_at = ma.fields.AwareDateTime()
    sent_at = ma.fields.AwareDateTime(allow_none=True)
    recipient = ma.fields.String()
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.AwareDateTime(allow_none=True)
    last_error = ma.fields.String(allow_none=True)


class NotificationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NotificationSchema))
    next_cursor = ma.fields.String(allow_none=True)


@blp.get("")
@blp.arguments(NotificationArgsSchema, location="query")
@blp.response(200, NotificationListSchema)
@blp.alt_response(401, schema=s.ErrorSchema)
@blp.alt_response(422, schema=s.ErrorSchema)
def list_notifications(args):
    """Reminders and escalations with their delivery status; `order` narrows to one order."""
    filters = NotificationFilters(order=args["order"], status=args["status"], kind=args["kind"])
    page = notifications.list_notifications(filters, cursor=args["cursor"], limit=args["limit"])
    return {"items": [notifications.notification_dict(n) for n in page.items], "next_cursor": page.next_cursor}
