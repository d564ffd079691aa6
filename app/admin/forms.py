"""Admin forms. They check shape (required, lengths, choices); the services check the
business rules (valid e-mail, password length, unique codes) so the API and the CLI
get the same answers."""

from __future__ import annotations

from datetime import time

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.domain.calendar import WEEKDAY_NAMES
from app.domain.enums import ChannelKind, LabelledEnum, LocationKind
from app.domain.roles import Role
from app.domain.sla import MAX_WINDOW_HOURS, SlaPolicy


def _choices(enum: type[LabelledEnum]) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.label) for member in enum]


ROLE_CHOICES = _choices(Role)


class UserCreateForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.OPS.value)
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class PasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[Optional(), Length(max=80)])


class ChannelForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=32)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    kind = SelectField("Kind", choices=_choices(ChannelKind), default=ChannelKind.WEBSTORE.value)
    dispatch_sla_hours = IntegerField(
        "Dispatch SLA (hours)", default=72, validators=[InputRequired(), NumberRange(min=1, max=24 * 60)]
    )


def _default_timezone() -> str:
    # New locations usually sit where the business is, so start from its timezone.
    return current_app.config["TIMEZONE"]


class LocationForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=32)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    kind = SelectField("Kind", choices=_choices(LocationKind), default=LocationKind.WAREHOUSE.value)
    regions = StringField("Regions served", validators=[Optional(), Length(max=500)],
                          description="Comma-separated: country codes, regions or postcode prefixes")
    priority = IntegerField("Priority", default=100, validators=[InputRequired(), NumberRange(min=0, max=10_000)],
                            description="Lower is preferred")
    timezone = StringField("Timezone", default=_default_timezone, validators=[DataRequired(), Length(max=64)])
    cutoff_time = TimeField("Dispatch cut-off", default=time(16, 0), validators=[InputRequired()])

    def region_list(self) -> list[str]:
        return [r.strip() for r in (self.regions.data or "").split(",") if r.strip()]


# SLA settings and business calendars ------------------------------------------------

_DEFAULTS = SlaPolicy()  # DESIGN.md §5


def _hours(label: str, default: int, description: str | None = None) -> IntegerField:
    return IntegerField(label, default=default, description=description,
                        validators=[InputRequired(), NumberRange(min=1, max=MAX_WINDOW_HOURS)])


class ChannelSlaForm(FlaskForm):
    dispatch_sla_hours = _hours("Dispatch within (hours)", _DEFAULTS.dispatch_sla_hours,
                                "From payment to the first shipment")
    dispatch_warn_pct = IntegerField("Warn managers at (% of the window)", default=_DEFAULTS.dispatch_warn_pct,
                                     validators=[InputRequired(), NumberRange(min=1, max=99)])
    dispatch_business_hours = BooleanField(
        "Count business hours only", default=_DEFAULTS.dispatch_business_hours,
        description="Only opening (08:00) to cut-off on the shipping location's working days count")
    payment_reminder_1_hours = _hours("First payment reminder after (hours)", _DEFAULTS.payment_reminder_1_hours)
    payment_reminder_2_hours = _hours("Second payment reminder after (hours)", _DEFAULTS.payment_reminder_2_hours)
    auto_cancel = BooleanField("Cancel unpaid orders automatically", default=True)
    auto_cancel_hours = IntegerField("Cancel unpaid orders after (hours)", default=_DEFAULTS.auto_cancel_hours,
                                     validators=[Optional(), NumberRange(min=1, max=MAX_WINDOW_HOURS)])

    def policy(self) -> SlaPolicy:
        return SlaPolicy(
            dispatch_sla_hours=self.dispatch_sla_hours.data, dispatch_warn_pct=self.dispatch_warn_pct.data,
            dispatch_business_hours=bool(self.dispatch_business_hours.data),
            payment_reminder_1_hours=self.payment_reminder_1_hours.data,
            payment_reminder_2_hours=self.payment_reminder_2_hours.data,
            auto_cancel_hours=(self.auto_cancel_hours.data or _DEFAULTS.auto_cancel_hours)
            if self.auto_cancel.data else None,
        )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LocationCalendarForm(FlaskForm):
    timezone = StringField("Timezone", validators=[DataRequired(), Length(max=64)],
                           description="IANA name, such as Europe/Amsterdam")
    working_days = MultiCheckboxField("Working days",
                                      choices=[SelectChoice(str(d), name) for d, name in WEEKDAY_NAMES.items()])
    cutoff_time = TimeField("Daily cut-off", validators=[InputRequired()],
                            description="Same-day holds are due by this time; later ones by the next working day's")


class HolidayForm(FlaskForm):
    day = DateField("Day", validators=[InputRequired()])
    name = StringField("Name", validators=[Optional(), Length(max=120)], description="For example King's Day")
