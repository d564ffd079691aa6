"""Admin pages: users and their API tokens, sales channels and their SLA policies,
locations and their business calendars.

Every action parses a form, calls a service and renders. A plain POST that worked is
redirected (a reload must not repeat it) with a flashed message; one that failed gets
the page again with the errors beside the form and what was typed still in it. An htmx
POST gets only the region it changed, with a toast on success.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import abort, flash, make_response, redirect, request, url_for
from flask_wtf import FlaskForm

from app.admin import bp
from app.admin.forms import (
    ROLE_CHOICES,
    ChannelForm,
    ChannelSlaForm,
    HolidayForm,
    LocationCalendarForm,
    LocationForm,
    PasswordForm,
    RoleForm,
    TokenForm,
    UserCreateForm,
)
from app.auth.access import current_actor, role_required
from app.domain.calendar import parse_cutoff
from app.domain.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.htmx import render, wants_fragment, with_toast
from app.services import catalog, sla_settings, users

admin_only = role_required("admin")


def _done(message: str, redirect_to: str, fragment: Callable):
    if wants_fragment():
        return with_toast(make_response(fragment()), message)
    flash(message, "success")
    return redirect(redirect_to, 303)


def _refused(exc: DomainError, form: FlaskForm | None = None) -> int:
    """Put a service's refusal on the form; returns the HTTP status to answer with."""
    # The service may have opened a write transaction (on SQLite it holds the database
    # lock); end it before rendering instead of at the end of the request.
    db.session.rollback()
    if form is not None:
        form.form_errors.append(exc.message)
        if isinstance(exc.details, dict):
            for name, detail in exc.details.items():
                field = form._fields.get(name)
                text = "Already in use." if isinstance(exc, Conflict) else detail
                if field is not None and isinstance(text, str):
                    field.errors = [*field.errors, text]
    return exc.http_status


@bp.get("/")
@admin_only
def index():
    return render("admin/index.html")


# Users -----------------------------------------------------------------------


def _users_page(form: UserCreateForm | None = None, *, status: int = 200, row_errors: dict | None = None):
    body = render(
        "admin/users.html",
        block="users_body",
        form=form or UserCreateForm(formdata=None),
        users=users.list_users(),
        token_counts=users.active_token_counts(),
        role_choices=ROLE_CHOICES,
        row_errors=row_errors or {},
    )
    return body, status


def _user_row(user_id: int, *, error: str | None = None, status: int = 200):
    """One row of the users table (htmx), or the whole page for a plain request."""
    if not wants_fragment():
        return _users_page(status=status, row_errors={user_id: error} if error else None)
    body = render(
        "admin/users.html",
        block="user_row",
        user=users.get_user(user_id),
        token_counts=users.active_token_counts(),
        role_choices=ROLE_CHOICES,
        row_errors={user_id: error} if error else {},
    )
    return body, status


@bp.get("/users")
@admin_only
def users_list():
    return _users_page()


@bp.post("/users")
@admin_only
def create_user():
    form = UserCreateForm()
    if not form.validate_on_submit():
        return _users_page(form, status=422)
    try:
        user = users.create_user(
            email=form.email.data, name=form.name.data or "", role=form.role.data,
            password=form.password.data, actor=current_actor(),
        )
    except DomainError as exc:
        return _users_page(form, status=_refused(exc, form))
    return _done(f"Created {user.email} ({user.role}).", url_for("admin.users_list"), _users_page)


@bp.post("/users/<int:user_id>/role")
@admin_only
def change_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        return _user_row(user_id, error="Choose one of the listed roles.", status=422)
    try:
        user = users.change_role(user_id, form.role.data, actor=current_actor())
    except DomainError as exc:
        return _user_row(user_id, error=exc.message, status=_refused(exc))
    return _done(f"{user.email} is now {user.role}.", url_for("admin.users_list"), lambda: _user_row(user_id))


def _set_active(user_id: int, active: bool):
    try:
        user = users.set_active(user_id, active, actor=current_actor())
    except DomainError as exc:
        return _user_row(user_id, error=exc.message, status=_refused(exc))
    message = (f"{user.email} can sign in again." if active
               else f"{user.email} is deactivated and their API tokens are revoked.")
    return _done(message, url_for("admin.users_list"), lambda: _user_row(user_id))


@bp.post("/users/<int:user_id>/deactivate")
@admin_only
def deactivate_user(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/activate")
@admin_only
def activate_user(user_id: int):
    return _set_active(user_id, True)


# One user: password and API tokens ---------------------------------------------


def _user_page(user_id: int, *, block: str | None = None, password_form: PasswordForm | None = None,
               token_form: TokenForm | None = None, issued=None, plain_token: str | None = None):
    return render(
        "admin/user.html",
        block=block,
        user=users.get_user(user_id),
        password_form=password_form or PasswordForm(formdata=None),
        token_form=token_form or TokenForm(formdata=None),
        issued=issued,
        plain_token=plain_token,
    )


@bp.get("/users/<int:user_id>")
@admin_only
def user_detail(user_id: int):
    return _user_page(user_id)


@bp.post("/users/<int:user_id>/password")
@admin_only
def set_password(user_id: int):
    form = PasswordForm()
    if not form.validate_on_submit():
        return _user_page(user_id, block="password", password_form=form), 422
    try:
        user = users.set_password(user_id, form.password.data, actor=current_actor())
    except DomainError as exc:
        status = _refused(exc, form)
        return _user_page(user_id, block="password", password_form=form), status
    return _done(f"New password set for {user.email}.", url_for("admin.user_detail", user_id=user_id),
                 lambda: _user_page(user_id, block="password"))


@bp.post("/users/<int:user_id>/tokens")
@admin_only
def issue_token(user_id: int):
    form = TokenForm()
    if not form.validate_on_submit():
        return _user_page(user_id, block="tokens", token_form=form), 422
    try:
        token, plain = users.issue_token(user_id, form.name.data or "", actor=current_actor())
    except DomainError as exc:
        status = _refused(exc, form)
        return _user_page(user_id, block="tokens", token_form=form), status
    # No redirect here, even for a plain POST: the token exists only in this response
    # (it is stored hashed), so it must not end up in a cache either.
    response = make_response(_user_page(user_id, block="tokens", issued=token, plain_token=plain), 201)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@admin_only
def revoke_token(user_id: int, token_id: int):
    user = users.get_user(user_id)
    if token_id not in {t.id for t in user.tokens}:
        abort(404)
    token = users.revoke_token(token_id, actor=current_actor())
    return _done(f"Token {token.prefix}… of {user.email} is revoked.",
                 url_for("admin.user_detail", user_id=user_id), lambda: _user_page(user_id, block="tokens"))


# Channels and locations ----------------------------------------------------------


def _channels_page(form: ChannelForm | None = None, *, status: int = 200):
    page = catalog.list_channels(cursor=request.args.get("cursor"))
    body = render("admin/channels.html", block="channels_body", form=form or ChannelForm(formdata=None), page=page)
    return body, status


@bp.get("/channels")
@admin_only
def channels():
    return _channels_page()


@bp.post("/channels")
@admin_only
def create_channel():
    form = ChannelForm()
    if not form.validate_on_submit():
        return _channels_page(form, status=422)
    try:
        channel = catalog.create_channel(
            code=form.code.data, name=form.name.data, kind=form.kind.data,
            dispatch_sla_hours=form.dispatch_sla_hours.data, actor=current_actor(),
        )
    except DomainError as exc:
        return _channels_page(form, status=_refused(exc, form))
    return _done(f"Channel {channel.code} created.", url_for("admin.channels"), _channels_page)


def _locations_page(form: LocationForm | None = None, *, status: int = 200):
    page = catalog.list_locations(cursor=request.args.get("cursor"))
    body = render("admin/locations.html", block="locations_body", form=form or LocationForm(formdata=None),
                  page=page)
    return body, status


@bp.get("/locations")
@admin_only
def locations():
    return _locations_page()


@bp.post("/locations")
@admin_only
def create_location():
    form = LocationForm()
    if not form.validate_on_submit():
        return _locations_page(form, status=422)
    try:
        location = catalog.create_location(
            code=form.code.data, name=form.name.data, kind=form.kind.data, regions=form.region_list(),
            priority=form.priority.data, timezone=form.timezone.data.strip(),
            cutoff_time=form.cutoff_time.data.strftime("%H:%M"), actor=current_actor(),
        )
    except DomainError as exc:
        return _locations_page(form, status=_refused(exc, form))
    return _done(f"Location {location.code} created.", url_for("admin.locations"), _locations_page)


# SLA policy of a channel -----------------------------------------------------------


def _channel_sla_page(code: str, form: ChannelSlaForm | None = None, *, status: int = 200):
    channel = catalog.get_channel(code)
    if form is None:
        form = ChannelSlaForm(formdata=None, obj=channel)
        form.auto_cancel.data = channel.auto_cancel_hours is not None
        form.auto_cancel_hours.data = channel.auto_cancel_hours or form.auto_cancel_hours.default
    return render("admin/channel_sla.html", block="sla_body", channel=channel, form=form), status


@bp.get("/channels/<code>/sla")
@admin_only
def channel_sla(code: str):
    return _channel_sla_page(code)


@bp.post("/channels/<code>/sla")
@admin_only
def update_channel_sla(code: str):
    catalog.get_channel(code)  # 404 before anything else
    form = ChannelSlaForm()
    if not form.validate_on_submit():
        return _channel_sla_page(code, form, status=422)
    try:
        channel = sla_settings.update_channel_policy(code, form.policy(), actor=current_actor())
    except DomainError as exc:
        return _channel_sla_page(code, form, status=_refused(exc, form))
    return _done(f"SLA settings of {channel.code} saved; they apply to clocks that start from now on.",
                 url_for("admin.channel_sla", code=code), lambda: _channel_sla_page(code))


# Business calendar of a location -----------------------------------------------------


def _calendar_page(code: str, form: LocationCalendarForm | None = None, holiday_form: HolidayForm | None = None,
                   *, status: int = 200):
    location = catalog.get_location(code)
    if form is None:
        form = LocationCalendarForm(formdata=None, timezone=location.timezone,
                                    working_days=list(location.working_days),
                                    cutoff_time=parse_cutoff(location.cutoff_time))
    body = render("admin/location_calendar.html", block="calendar_body", location=location, form=form,
                  holiday_form=holiday_form or HolidayForm(formdata=None))
    return body, status


@bp.get("/locations/<code>/calendar")
@admin_only
def location_calendar(code: str):
    return _calendar_page(code)


@bp.post("/locations/<code>/calendar")
@admin_only
def update_location_calendar(code: str):
    catalog.get_location(code)
    form = LocationCalendarForm()
    if not form.validate_on_submit():
        return _calendar_page(code, form, status=422)
    try:
        location = sla_settings.update_calendar(code, timezone=form.timezone.data, working_days=form.working_days.data,
                                                cutoff_time=form.cutoff_time.data.strftime("%H:%M"),
                                                actor=current_actor())
    except DomainError as exc:
        return _calendar_page(code, form, status=_refused(exc, form))
    return _done(f"Calendar of {location.code} saved.", url_for("admin.location_calendar", code=code),
                 lambda: _calendar_page(code))


@bp.post("/locations/<code>/holidays")
@admin_only
def add_holiday(code: str):
    catalog.get_location(code)
    form = HolidayForm()
    if not form.validate_on_submit():
        return _calendar_page(code, holiday_form=form, status=422)
    try:
        sla_settings.add_holiday(code, form.day.data, form.name.data or "", actor=current_actor())
    except DomainError as exc:
        return _calendar_page(code, holiday_form=form, status=_refused(exc, form))
    return _done(f"{form.day.data} is a holiday at {code}.", url_for("admin.location_calendar", code=code),
                 lambda: _calendar_page(code))


@bp.post("/locations/<code>/holidays/<day>/delete")
@admin_only
def remove_holiday(code: str, day: str):
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    try:
        sla_settings.remove_holiday(code, when, actor=current_actor())
    except NotFound:
        db.session.rollback()
        abort(404)
    return _done(f"{when} is a working day again at {code}.", url_for("admin.location_calendar", code=code),
                 lambda: _calendar_page(code))
