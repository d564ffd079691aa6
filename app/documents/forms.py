"""Finance forms: the export period and credit notes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class ExportForm(FlaskForm):
    date_from = DateField("From", validators=[InputRequired(message="Choose the first day.")])
    date_to = DateField("To", validators=[InputRequired(message="Choose the last day.")])


class CreditNoteForm(FlaskForm):
    """Full credit when no line quantity and no amount is given; line quantities come in
    as qty-<invoice line number> fields beside these."""

    reason = StringField("Reason", validators=[InputRequired(message="Say why."), Length(max=200)])
    amount = DecimalField("Amount back (incl. tax)", places=2, validators=[Optional(), NumberRange(min=0.01)])
