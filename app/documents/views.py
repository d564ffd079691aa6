"""Documents (finance): invoices and credit notes, their PDFs, credit notes, bulk export
of a period, and the audit of the number series."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Response, current_app, redirect, request, send_file, url_for

from app.auth.access import current_actor
from app.documents import bp
from app.documents.forms import CreditNoteForm, ExportForm
from app.domain.errors import DomainError, NotFound
from app.extensions import db
from app.htmx import render, toast, wants_fragment
from app.services import invoicing
from app.services.documents import export_jobs, series_audit
from app.services.documents import render as printing
from app.services.queries import documents as document_queries
from app.services.queries.documents import DocumentFilters, date_arg


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


@bp.get("/documents/")
def index():
    filters = DocumentFilters.from_args(request.args)
    page = document_queries.list_documents(
        filters,
        tz=_tz(),
        cursor=request.args.get("cursor"),
        limit=current_app.config["PAGE_SIZE"],
    )
    export_form = ExportForm(formdata=None, date_from=filters.date_from, date_to=filters.date_to)
    return render(
        "documents/index.html",
        block="rows",
        page=page,
        filters=filters,
        choices=document_queries.filter_choices(),
        export_form=export_form,
        jobs=export_jobs.recent_jobs(),
    )


# Single documents -------------------------------------------------------------------


@bp.get("/invoices/<number>.pdf")
def invoice_pdf(number):
    doc = document_queries.get_document(number)
    response = Response(printing.document_pdf(doc.snapshot), mimetype="application/pdf")
    disposition = "attachment" if request.args.get("download") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{doc.number}.pdf"'
    return response


def _detail(number: str, *, form: CreditNoteForm | None = None, error: str | None = None, status: int = 200):
    doc = document_queries.get_document(number)
    return render(
        "documents/detail.html",
        doc=doc,
        notes=document_queries.credit_notes_of(doc) if doc.kind == "invoice" else [],
        credited=invoicing.credited_total(doc) if doc.kind == "invoice" else None,
        form=form or CreditNoteForm(formdata=None),
        error=error,
    ), status


@bp.get("/documents/<number>")
def detail(number):
    return _detail(number)


@bp.post("/documents/<number>/credit-notes")
def credit(number):
    form = CreditNoteForm()
    if not form.validate_on_submit():
        return _detail(number, form=form, error="Say why the invoice is corrected.", status=422)
    lines = []
    for key, value in request.form.items():
        if key.startswith("qty-") and value.strip() not in ("", "0"):
            try:
                lines.append({"sku": key.removeprefix("qty-"), "qty": int(value)})
            except ValueError:
                return _detail(number, form=form, error="Quantities must be whole numbers.", status=422)
    try:
        note = invoicing.credit_invoice(
            number,
            lines=lines or None,
            amount=Decimal(form.amount.data) if form.amount.data else None,
            reason=form.reason.data,
            actor=current_actor(),
        )
    except DomainError as exc:
        db.session.rollback()
        return _detail(number, form=form, error=exc.message, status=exc.http_status)
    return toast(
        f"Credit note {note.number} issued.",
        level="success",
        redirect_to=url_for("documents.detail", number=note.number),
    )


# Bulk export ------------------------------------------------------------------------


@bp.post("/documents/exports")
def start_export():
    form = ExportForm()
    problem = None
    if not form.validate_on_submit():
        problem = "Choose the first and the last day of the period (YYYY-MM-DD)."
    else:
        try:
            export_jobs.start_export(form.date_from.data, form.date_to.data, actor=current_actor())
        except DomainError as exc:
            db.session.rollback()
            problem = exc.message
    if not wants_fragment():
        if problem:
            return toast(problem, level="error", status=422, redirect_to=url_for("documents.index"))
        return toast(
            "Export started; it keeps running if you leave this page.",
            level="success",
            redirect_to=url_for("documents.index"),
        )
    return render(
        "documents/index.html",
        block="exports",
        export_form=form,
        jobs=export_jobs.recent_jobs(),
        export_problem=problem,
    ), 422 if problem else 200


@bp.get("/documents/exports/<token>")
def export_status(token):
    job = export_jobs.view(export_jobs.get_job(token))
    if not wants_fragment():
        return redirect(url_for("documents.index"))
    return render("documents/index.html", block="export_row", job=job)


@bp.get("/documents/exports/<token>.zip")
def export_download(token):
    job = export_jobs.view(export_jobs.get_job(token))
    if not job.ready:
        raise NotFound("This export has no file (yet). Wait until it is done, or start it again.")
    return send_file(
        export_jobs.zip_path(job.job),
        mimetype="application/zip",
        as_attachment=True,
        download_name=job.job.filename or export_jobs.download_name(job.job),
    )


# Series audit -----------------------------------------------------------------------


@bp.get("/documents/audit")
def audit():
    problems: list[str] = []
    date_from = date_arg(request.args, "from", problems)
    date_to = date_arg(request.args, "to", problems)
    report = None
    if date_from and date_to:
        try:
            report = series_audit.audit(date_from, date_to)
        except DomainError as exc:
            problems.append(exc.message)
    elif request.args:
        problems.append("Choose the first and the last day of the period.")
    return render("documents/audit.html", report=report, date_from=date_from, date_to=date_to, problems=problems)
