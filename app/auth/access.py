"""Who may do what: login for every page, role checks per section and per action."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from app.domain.roles import SECTION_ROLES, Role
from app.extensions import login_manager
from app.services.actors import Actor


def current_actor() -> Actor:
    via = "token" if g.get("auth_via") == "token" else "user"
    return Actor.for_user(current_user, via=via)


def role_required(*roles: str | Role) -> Callable:
    """Refuse (403) unless the logged-in user has one of `roles`."""
    allowed = {str(r) for r in roles}

    def decorator(view: Callable) -> Callable:
        view.required_roles = frozenset(allowed)  # read by the route-access test

        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def guard_section(blueprint, section: str) -> None:
    """Every route of `blueprint` needs login and a role that may open `section`."""
    allowed = {str(r) for r in SECTION_ROLES[section]}

    @blueprint.before_request
    def _check_section_access():
        if request.method == "OPTIONS":
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in allowed:
            abort(403)
        return None
