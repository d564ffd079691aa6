"""Login and logout. Failed logins are throttled per client address."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import LoginForm
from app.extensions import limiter
from app.services import users

GENERIC_LOGIN_ERROR = "That e-mail and password do not match an active account."


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect would make phishing easy."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


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
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            users.record_login(user)
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
