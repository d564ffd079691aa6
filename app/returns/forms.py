"""Returns forms. They check shape (required, lengths, choices); the services check the
rules (returnable units, receipts, refund limits, stale versions).

Per-line quantities come in beside them as `qty-<line id>` fields (and, when receiving,
`condition-`, `disposition-`, `location-` and `missing-<line id>`): see views.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.domain.enums import ReturnReason, ReturnResolution

REASON_CHOICES = [SelectChoice(r.value, r.label) for r in ReturnReason]
RESOLUTION_CHOICES = [SelectChoice(r.value, r.label) for r in ReturnResolution]
REFUND_METHODS = [SelectChoice(value, label) for value, label in (
    ("original", "Original payment method"), ("bank_transfer", "Bank transfer"), ("store_credit", "Store credit"))]


class VersionedForm(FlaskForm):
    """Carries the version of the return the person was looking at (optimistic locking)."""

    version = IntegerField(widget=HiddenField.widget, validators=[Optional(), NumberRange(min=1)])


class NewReturnForm(FlaskForm):
    order = StringField("Order", validators=[InputRequired(message="Which order?"), Length(max=20)])
    reason = SelectField("Reason", choices=REASON_CHOICES, validators=[InputRequired()])
    reason_note = StringField("Note", validators=[Optional(), Length(max=500)],
                              description="required when the reason is “other”")
    resolution = SelectField("The customer would like", choices=RESOLUTION_CHOICES,
                             default=ReturnResolution.REFUND.value)


class DecisionForm(VersionedForm):
    """Approve (note optional), reject (reason required by the service), cancel."""

    note = StringField("Note", validators=[Optional(), Length(max=500)])


class ReceiveForm(VersionedForm):
    pass


class RefundForm(VersionedForm):
    amount = DecimalField("Refund (incl. tax)", places=2, validators=[Optional(), NumberRange(min=0)],
                          description="leave as it is for the full value; lower it only with a reason")
    include_shipping = BooleanField("Also refund shipping")
    reason = StringField("Reason", validators=[Optional(), Length(max=300)],
                         description="printed on the credit note; required when the amount is lowered")
    method = SelectField("Paid back by", choices=REFUND_METHODS, default="original")


class ExchangeForm(VersionedForm):
    pass
