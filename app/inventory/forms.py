"""Inventory forms. They check shape (required, whole numbers, known choices); the
stock services check the business rules (enough on hand, active location) so the
API and the pages give the same answers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, Field, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from app.services.inventory import ADJUSTMENT_REASONS
from app.services.queries.inventory import LocationOption

MAX_QTY = 1_000_000  # one booking; far above any delivery, low enough to stop a typo

REASON_LABELS = {"count": "Count correction", "damage": "Damaged", "loss": "Lost", "found": "Found"}


def _whole_number(form: FlaskForm, field: Field) -> None:
    """An empty box gets the field's own "enter …" message, not "Not a valid integer value.";
    "1.5" gets that one alone, without a range message after it."""
    if not field.process_errors:
        return
    if not (field.raw_data and field.raw_data[0].strip()):
        field.errors = []  # InputRequired, next in the chain, says what is missing
        return
    raise StopValidation()


class StockActionForm(FlaskForm):
    """What every stock action names: a product and where it is."""

    # The field a refusal from the service is shown beside when it names no field itself.
    quantity_field = "qty"

    sku = StringField("SKU", validators=[DataRequired(), Length(max=64)], filters=[lambda v: v.strip() if v else v])

    def offer_locations(self, options: list[LocationOption]) -> FlaskForm:
        choices = [SelectChoice("", "Choose…")] + [SelectChoice(o.code, o.label) for o in options]
        for name in ("location", "from_location", "to_location"):
            if name in self._fields:
                self._fields[name].choices = choices
        return self


def _location_field(label: str) -> SelectField:
    return SelectField(label, choices=[], validators=[DataRequired(message="Choose a location.")],
                       validate_choice=True)


class ReceiveForm(StockActionForm):
    location = _location_field("Location")
    qty = IntegerField("Quantity", validators=[_whole_number, InputRequired(message="Enter how many arrived."),
                                               NumberRange(min=1, max=MAX_QTY)])
    reference = StringField("Reference", validators=[Optional(), Length(max=64)],
                            description="Delivery note or purchase order")


class AdjustForm(StockActionForm):
    quantity_field = "delta"

    location = _location_field("Location")
    delta = IntegerField("Change", validators=[_whole_number, InputRequired(message="Enter the change, e.g. -2 or 5."),
                                               NumberRange(min=-MAX_QTY, max=MAX_QTY)],
                         description="Negative removes stock, positive adds it")
    reason = SelectField("Reason", choices=[SelectChoice(r, REASON_LABELS[r]) for r in ADJUSTMENT_REASONS],
                         default="count")
    note = StringField("Note", validators=[Optional(), Length(max=150)])

    def validate_delta(self, field: IntegerField) -> None:
        if field.data == 0:
            raise ValidationError("A change of 0 changes nothing.")


class TransferForm(StockActionForm):
    from_location = _location_field("From")
    to_location = _location_field("To")
    qty = IntegerField("Quantity", validators=[_whole_number, InputRequired(message="Enter how many to move."),
                                               NumberRange(min=1, max=MAX_QTY)])
    reference = StringField("Reference", validators=[Optional(), Length(max=64)])

    def validate_to_location(self, field: SelectField) -> None:
        if field.data and field.data == self.from_location.data:
            raise ValidationError("Choose another location than the source.")


ACTION_FORMS: dict[str, type[StockActionForm]] = {"receive": ReceiveForm, "adjust": AdjustForm,
                                                   "transfer": TransferForm}


class CountUploadForm(FlaskForm):
    file = FileField("Count file (CSV)", validators=[FileRequired(message="Choose a CSV file.")],
                     description="Columns sku, location, counted; separated by , or ;")


class CountConfirmForm(FlaskForm):
    """The previewed file travels back with the confirmation (base64), so importing
    checks exactly the bytes the user looked at, against stock as it is then."""

    payload = HiddenField(validators=[DataRequired(), Length(max=3 * 1024 * 1024)])
    filename = HiddenField(validators=[Optional(), Length(max=200)])
    skip_bad = BooleanField("Skip bad rows and import the others")


class RoutingSelectionForm(FlaskForm):
    # Any order number may be posted; the routing service names the unknown ones.
    orders = SelectMultipleField("Orders", choices=[], validate_choice=False,
                                 validators=[DataRequired(message="Select at least one order.")])
