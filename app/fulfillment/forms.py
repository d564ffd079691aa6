"""Fulfillment forms. They check shape; the services check the rules (what is packed,
tracking formats, which orders can be picked)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange

from app.domain.carriers import carrier_choices


class ScanForm(FlaskForm):
    code = StringField("Scan or type a SKU", validators=[Length(max=64)])


class ShipForm(FlaskForm):
    carrier = SelectField(
        "Carrier", choices=[SelectChoice(code, name) for code, name in carrier_choices()], validators=[InputRequired()]
    )
    tracking_number = StringField("Tracking number", validators=[InputRequired(), Length(max=64)])


class NextWaveForm(FlaskForm):
    count = IntegerField("Orders", default=10, validators=[InputRequired(), NumberRange(min=1, max=200)])
