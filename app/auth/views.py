"""Login and logout. Failed logins are throttled per client address (Flask-Limiter) and,
per account, locked for a while after too many failures (app/services/users.py)."""

from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import LoginForm
from app.extensions import limiter
from app.models.base import utcnow
from app.services import users
from app.templating import local_time

GENERIC_LOGIN_ERROR = "That e-mail and password do not match an active account."


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect would make phishing easy."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


def _locked_message(until: datetime) -> str:
    minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
    return (f"Too many failed sign-in attempts for this account. Try again after {local_time(until, '%H:%M')} "
            f"({minutes} min from now), or ask an admin to set a new password.")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit,
    methods=["POST"],
    # Only failed attempts count: a successful login redirects (302).
    deduct_when=lambda response: response.status_code != 302,
    error_message="Too many failed sign-in attempts. Wait a few minutes and try again.",
)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = users.sign_in(form.email.data, form.password.data, client=request.remote_addr)
        except users.AccountLocked as locked:
            form.password.errors.append(_locked_message(locked.until))
            return render_template("auth/login.html", form=form), 429
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(GENERIC_LOGIN_ERROR)
        return render_template("auth/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    users.record_logout(current_user)
    logout_user()
    session.pop("csrf_token", None)  # a new session gets a new CSRF secret
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
