"""Order forms. They check shape (required, lengths, choices); the services check the
business rules (allowed moves, amounts due, stale versions)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.domain.order_states import HoldReason, OrderStatus
from app.services.bulk_orders import MAX_ORDERS
from app.services.queries.order_actions import MANUAL_HOLD_REASONS, RELEASE_TARGETS

STATUS_CHOICES = [SelectChoice(s.value, s.label) for s in OrderStatus]
HOLD_CHOICES = [SelectChoice(h.value, h.label) for h in MANUAL_HOLD_REASONS]
PAYMENT_METHODS = [SelectChoice(value, label) for value, label in (
    ("bank_transfer", "Bank transfer"), ("card", "Card"), ("cash", "Cash"), ("paypal", "PayPal"), ("other", "Other"))]


class VersionedForm(FlaskForm):
    """Carries the version of the order the person was looking at (optimistic locking)."""

    version = IntegerField(widget=HiddenField.widget, validators=[Optional(), NumberRange(min=1)])


class MoveForm(VersionedForm):
    to = SelectField("Move to", choices=STATUS_CHOICES, validators=[InputRequired()])
    reason = StringField("Note", validators=[Optional(), Length(max=500)])
    # Which page sent the move: the board gets a card back, the detail page itself.
    view = HiddenField(default="board")


def whole_cents(form, field) -> None:
    """12.345 is refused, not rounded: the API refuses it too, and money is never guessed."""
    if field.data is not None and field.data.is_finite() and field.data.as_tuple().exponent < -2:
        raise ValidationError("Use at most two decimals (whole cents).")


class PaymentForm(FlaskForm):
    amount = DecimalField("Amount", places=2, validators=[InputRequired(), NumberRange(min=0.01), whole_cents])
    method = SelectField("Method", choices=PAYMENT_METHODS, default="bank_transfer")
    reference = StringField("Reference", validators=[Optional(), Length(max=120)])


class HoldForm(VersionedForm):
    reason = SelectField("Reason", choices=HOLD_CHOICES, default=HoldReason.MANUAL.value)
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class ReleaseForm(VersionedForm):
    to = SelectField("Release to", choices=[SelectChoice(s.value, s.label) for s in RELEASE_TARGETS])


class CancelForm(VersionedForm):
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])
    confirm = BooleanField("Yes, cancel this order and release its stock",
                           validators=[DataRequired("Tick the box to confirm.")])


class AddressForm(VersionedForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    line1 = StringField("Address", validators=[DataRequired(), Length(max=200)])
    line2 = StringField("Address line 2", validators=[Optional(), Length(max=200)])
    postcode = StringField("Postcode", validators=[DataRequired(), Length(max=20)])
    city = StringField("City", validators=[DataRequired(), Length(max=120)])
    region = StringField("Region", validators=[Optional(), Length(max=120)])
    country = StringField("Country", validators=[DataRequired(), Length(min=2, max=2)],
                          description="Two-letter code, e.g. NL")

    FIELDS = ("name", "line1", "line2", "city", "region", "postcode", "country")

    def values(self) -> dict[str, str | None]:
        return {name: self[name].data for name in self.FIELDS}

    @classmethod
    def for_order(cls, order) -> AddressForm:
        return cls(formdata=None, version=order.version,
                   **{name: getattr(order, f"ship_{name}") for name in cls.FIELDS})


# The bulk bar's one drop-down: "what to do" and "to what" in one choice.
BULK_OPERATIONS = [
    ("Move to", [(f"move:{s.value}", s.label) for s in OrderStatus]),
    ("Hold for", [(f"hold:{h.value}", h.label) for h in MANUAL_HOLD_REASONS]),
    ("Release to", [(f"release:{s.value}", s.label) for s in RELEASE_TARGETS]),
    ("Cancel", [("cancel", "Cancel the orders")]),
]


class BulkForm(FlaskForm):
    numbers = SelectMultipleField("Orders", choices=None, validate_choice=False,
                                  validators=[DataRequired("Select at least one order.")])
    operation = SelectField("Action", validators=[InputRequired()], choices=[
        SelectChoice(value, text, optgroup=group) for group, options in BULK_OPERATIONS for value, text in options])
    note = StringField("Note", validators=[Optional(), Length(max=500)])

    def validate_numbers(self, field) -> None:
        if len(field.data or []) > MAX_ORDERS:
            raise ValidationError(f"At most {MAX_ORDERS} orders at a time.")

    def action(self) -> tuple[str, str | None]:
        action, _, argument = (self.operation.data or "").partition(":")
        return action, argument or None
