"""How the inventory pages answer an action: the changed region plus a toast for htmx,
a redirect with a flashed message for a plain POST, the form with its errors on refusal."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, make_response, redirect
from flask_wtf import FlaskForm

from app.domain.errors import DomainError
from app.extensions import db
from app.htmx import wants_fragment, with_toast

# Refusals re-render the form with the reason beside the field: the same status for a
# form that failed its own checks and one the service turned down (htmx swaps both).
FORM_REFUSED = 422


def done(message: str, redirect_to: str, fragment: Callable[[], str]):
    if wants_fragment():
        return with_toast(make_response(fragment()), message)
    flash(message, "success")
    return redirect(redirect_to, 303)


def refused(exc: DomainError, form: FlaskForm, *, field: str | None = None,
            aliases: dict[str, str] | None = None) -> int:
    """Put a service's refusal beside the field it is about (the first field its details
    name, else `field`, else the top of the form). Returns the status to answer with."""
    # The service may have opened a write transaction (on SQLite it holds the database
    # lock); end it before rendering instead of at the end of the request.
    db.session.rollback()
    names = list(exc.details) if isinstance(exc.details, dict) else []
    names = [(aliases or {}).get(name, name) for name in names]
    target = next((form._fields[n] for n in names if n in form._fields), None)
    if target is None and field:
        target = form._fields.get(field)
    if target is None:
        form.form_errors.append(exc.message)
    else:
        target.errors = [*target.errors, exc.message]
    return FORM_REFUSED
