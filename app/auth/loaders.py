"""How a request becomes a user: the session cookie, or a bearer token under /api/."""

from __future__ import annotations

from flask import flash, g, request, url_for

from app.extensions import db, login_manager
from app.htmx import redirect_to_login
from app.models import User


def register_loaders(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.request_loader
    def load_user_from_token(req) -> User | None:
        if not req.path.startswith("/api/"):
            return None
        header = req.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        from app.services.users import user_for_token

        user = user_for_token(token.strip())
        if user is not None:
            g.auth_via = "token"
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from app.errors import api_error

        if request.path.startswith("/api/"):
            return api_error(401, "unauthorized", "Send a valid API token (Authorization: Bearer …) or sign in.")
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect_to_login(url_for("auth.login", next=request.full_path.rstrip("?")))
