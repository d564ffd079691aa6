"""Stock count import: upload a CSV of counts, look at what it would change, confirm.

The dry run writes nothing. The confirmation carries the very file that was shown and
books it in one transaction (app.services.stock_counts.apply): all of it, or — when
some rows are bad — nothing, unless the user ticked "skip bad rows".
"""

from __future__ import annotations

import base64
import binascii

from flask import url_for

from app.auth.access import current_actor, role_required
from app.domain.errors import DomainError
from app.htmx import render
from app.inventory import bp
from app.inventory.answers import FORM_REFUSED, done, refused
from app.inventory.forms import CountConfirmForm, CountUploadForm
from app.services import stock_counts
from app.services.stock_counts import BadCountRows, CountPlan

STOCK_WRITERS = ("ops", "manager", "admin")
TEMPLATE = "inventory/counts.html"


def _upload_step(form: CountUploadForm | None = None, *, status: int = 200):
    return render(TEMPLATE, block="count_body", upload=form or CountUploadForm(formdata=None)), status


def _preview_step(plan: CountPlan, confirm: CountConfirmForm, *, status: int = 200, error: str | None = None):
    return render(TEMPLATE, block="count_body", plan=plan, confirm=confirm, error=error,
                  upload=CountUploadForm(formdata=None)), status


@bp.get("/counts")
def counts():
    return _upload_step()


@bp.post("/counts/preview")
@role_required(*STOCK_WRITERS)
def count_preview():
    form = CountUploadForm()
    if not form.validate_on_submit():
        return _upload_step(form, status=FORM_REFUSED)
    data = form.file.data.read()
    try:
        plan = stock_counts.preview(data)
    except DomainError as exc:
        return _upload_step(form, status=refused(exc, form, field="file"))
    confirm = CountConfirmForm(formdata=None, data={
        "payload": base64.b64encode(data).decode("ascii"),
        "filename": (form.file.data.filename or "")[:200],
    })
    return _preview_step(plan, confirm)


@bp.post("/counts/import")
@role_required(*STOCK_WRITERS)
def count_import():
    form = CountConfirmForm()
    try:
        data = base64.b64decode(form.payload.data or "", validate=True) if form.validate_on_submit() else None
    except (binascii.Error, ValueError):
        data = None
    if not data:
        upload = CountUploadForm(formdata=None)
        upload.form_errors.append("The confirmation did not carry the file; upload it again.")
        return _upload_step(upload, status=FORM_REFUSED)
    try:
        result = stock_counts.apply(data, actor=current_actor(), skip_bad=form.skip_bad.data,
                                    source=form.filename.data or "")
    except BadCountRows as exc:
        return _preview_step(exc.plan, form, status=FORM_REFUSED, error=exc.message)
    except DomainError as exc:
        upload = CountUploadForm(formdata=None)
        return _upload_step(upload, status=refused(exc, upload, field="file"))
    plan = result.plan
    message = (f"Stock count {result.reference} booked: {len(plan.adjustments)} level"
               f"{'s' if len(plan.adjustments) != 1 else ''} adjusted, {len(plan.unchanged)} unchanged"
               + (f", {len(result.skipped)} bad row{'s' if len(result.skipped) != 1 else ''} skipped." if result.skipped
                  else "."))
    return done(message, url_for("inventory.index"),
                lambda: render(TEMPLATE, block="count_body", result=result, upload=CountUploadForm(formdata=None)))
