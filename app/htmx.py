"""The one place that knows about htmx: fragment or page, toasts, redirects.

Views call render() with the name of a template block. A normal request gets
the whole page, an htmx request only that block, so a reload or a bookmarked
URL always shows the same state as the fragment did.
"""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request
from flask_htmx import make_response as htmx_response
from jinja2_fragments.flask import render_block

from app.extensions import htmx


def wants_fragment() -> bool:
    """True for an htmx request that will swap part of the page (not a boosted full page
    or a history restore, which need the whole document)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = None, **context) -> str:
    if block and wants_fragment():
        return render_block(template, block, **context)
    return render_template(template, **context)


def toast(message: str, *, level: str = "info", status: int = 200, redirect_to: str | None = None) -> Response:
    """Tell the user something. htmx: an event the page shows as a toast, nothing swapped.
    Plain request: a flashed message on the page we send them back to."""
    if wants_fragment():
        return htmx_response(
            "", status, trigger={"toast": {"message": message, "level": level}}, reswap="none"
        )
    flash(message, level)
    return redirect(redirect_to or request.referrer or "/", 303)


def with_toast(response: Response, message: str, level: str = "success") -> Response:
    """Attach a toast to a fragment response (keeps any HX-Trigger already set)."""
    existing = response.headers.get("HX-Trigger")
    triggers = json.loads(existing) if existing and existing.startswith("{") else {}
    triggers["toast"] = {"message": message, "level": level}
    response.headers["HX-Trigger"] = json.dumps(triggers)
    return response


def redirect_to_login(login_url: str) -> Response:
    """An expired session during an htmx request: a 302 would swap the login page into
    a fragment, so ask htmx to navigate the whole window instead."""
    if htmx:
        return htmx_response("", 401, redirect=login_url)
    return redirect(login_url)


def add_vary_header(response: Response) -> Response:
    """Pages and fragments share URLs; caches must key on HX-Request."""
    response.vary.add("HX-Request")
    return response
