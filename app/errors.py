"""Error handlers: JSON under /api/, HTML pages elsewhere. One body shape for the API:
{"error": "<code>", "message": "<for a person>", "details": …}."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.domain.errors import DomainError
from app.extensions import db, login_manager
from app.htmx import toast, wants_fragment

log = logging.getLogger(__name__)

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please sign in.",
    403: "Your role does not allow this. Ask an admin if you need access.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "The upload is too large.",
    429: "Too many requests. Wait a moment and try again.",
    500: "Something went wrong on our side. The error was logged; please try again.",
    503: "The database is not reachable right now. Try again in a few seconds.",
}


# SQLite: another write held the lock for longer than the busy timeout.
BUSY_MESSAGE = "The database is busy with another change right now. Try again in a few seconds."


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str | None = None, message: str | None = None, details=None):
    body = {"error": code or ERROR_CODES.get(status, "error"), "message": message or MESSAGES.get(status, "")}
    if details is not None:
        body["details"] = details
    return jsonify(body), status


def _html_error(status: int, message: str | None = None):
    message = message or MESSAGES.get(status, "")
    if wants_fragment() and status not in (401,):
        return toast(message, level="error", status=status)
    return render_template("errors/error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = (
            "This form was sent without a valid security token (it may have expired). "
            "Reload the page and try again."
        )
        if is_api_request():
            return api_error(400, "csrf_failed", message, details=exc.description)
        return _html_error(400, message)

    def _own_description(exc: HTTPException) -> str | None:
        """The sentence given to abort(), if any (not werkzeug's stock text for the status)."""
        return exc.description if exc.description != type(exc).description else None

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if is_api_request():
            data = getattr(exc, "data", None) or {}
            if status == 422 and "messages" in data:  # webargs validation from flask-smorest
                messages = data["messages"]
                fields = messages.get("json", messages) if isinstance(messages, dict) else messages
                return api_error(422, "validation_error", "Some fields are invalid.", details=fields)
            if status == 400 and "messages" in data:
                return api_error(400, "bad_request", "The request body is not valid JSON.", details=data["messages"])
            message = data.get("message") or _own_description(exc) or MESSAGES.get(status, exc.description)
            return api_error(status, data.get("error"), message)
        if status == 429:
            return _html_error(429, exc.description)
        return _html_error(status, _own_description(exc) if status == 400 else None)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if is_api_request():
            return api_error(exc.http_status, exc.code, exc.message, exc.details)
        return _html_error(exc.http_status, exc.message)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        log.exception("database error")
        with contextlib.suppress(Exception):  # the connection may be gone; the pool replaces it
            db.session.rollback()
        # The page must render without the database: no signed-in user to look up.
        g._login_user = login_manager.anonymous_user()
        busy = "database is locked" in str(exc.orig or exc)
        message = BUSY_MESSAGE if busy else None
        response = api_error(503, message=message) if is_api_request() else _html_error(503, message)
        response = current_app.make_response(response)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(500)
    def internal_error(exc):
        db.session.rollback()
        if is_api_request():
            return api_error(500)
        return render_template("errors/error.html", status=500, message=MESSAGES[500]), 500
