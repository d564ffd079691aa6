"""Orders: importing a CSV file — upload and check, confirm, watch it run."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename
from wtforms.fields.choices import SelectChoice

from app.auth.access import current_actor, role_required
from app.domain.errors import Conflict
from app.htmx import render, toast
from app.orders import bp
from app.orders.import_forms import ImportUploadForm
from app.services.order_import import jobs

IMPORTERS = ("ops", "manager", "admin")
MAX_UPLOAD_MB = 50
# Multipart framing and the other form fields travel with the file.
FORM_OVERHEAD_BYTES = 64 * 1024


def _max_upload_bytes() -> int:
    return current_app.config.get("ORDER_IMPORT_MAX_BYTES", MAX_UPLOAD_MB * 1024 * 1024)


@bp.url_value_preprocessor
def _limit_upload_size(endpoint: str | None, values: dict | None) -> None:
    # URL value preprocessors run before every before_request hook, and the CSRF check
    # (an app-wide before_request) is what first reads the form: the limit must be in
    # place before that, or the whole body would be read first.
    if endpoint == "orders.import_upload":
        request.max_content_length = _max_upload_bytes() + FORM_OVERHEAD_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(exc: RequestEntityTooLarge):
    limit = _max_upload_bytes()
    size = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 2**10:g} KB"
    message = (f"The file is larger than {size}, the most one import takes. Split it into smaller files "
               "(keep all rows of an order in the same file) and import them one after another.")
    return render_template("errors/error.html", status=413, message=message), 413


def _upload_form() -> ImportUploadForm:
    form = ImportUploadForm()
    form.channel.choices = [SelectChoice(code, f"{name} ({code})") for code, name in jobs.active_channels()]
    return form


@bp.get("/import")
@role_required(*IMPORTERS)
def import_form():
    return render("orders/import.html", form=_upload_form(), max_mb=MAX_UPLOAD_MB)


@bp.post("/import")
@role_required(*IMPORTERS)
def import_upload():
    form = _upload_form()
    if not form.validate_on_submit():
        return render("orders/import.html", form=form, max_mb=MAX_UPLOAD_MB), 422
    upload = form.file.data
    job = jobs.create_job(upload.read(), channel=form.channel.data,
                          filename=secure_filename(upload.filename or "") or "orders.csv",
                          skip_invalid=form.skip_invalid.data, actor=current_actor())
    return redirect(url_for("orders.import_job", token=job.token), 303)


@bp.post("/import/<token>/confirm")
@role_required(*IMPORTERS)
def import_confirm(token: str):
    here = url_for("orders.import_job", token=token)
    try:
        jobs.start(token, actor=current_actor())
    except Conflict as exc:
        return toast(exc.message, level="warning", status=409, redirect_to=here)
    return redirect(here, 303)


@bp.get("/import/<token>")
@role_required(*IMPORTERS)
def import_job(token: str):
    return render("orders/import_job.html", block="progress", job=jobs.view(token))
