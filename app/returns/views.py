"""Returns (RMAs): the queue per status, opening a return from an order, one return's page
with its actions (approve, reject, cancel, receive, refund, exchange), and the managers'
returns report.

Views parse a form, call a service and render. An htmx request gets the return's page
region back (with a toast); a plain request gets a redirect after a POST that worked, or
the page again beside the reason when it did not, so a reload always shows the truth.
"""

from __future__ import annotations

import csv
import io

from flask import Response, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user

from app.auth.access import current_actor, role_required
from app.domain.enums import Disposition
from app.domain.errors import DomainError, NotFound
from app.domain.returns import HANDLERS, REFUNDERS, REPORT_READERS
from app.domain.roles import can_open
from app.extensions import db
from app.htmx import render, wants_fragment, with_toast
from app.returns import bp
from app.returns.forms import DecisionForm, ExchangeForm, NewReturnForm, ReceiveForm, RefundForm
from app.services import returns as returns_service
from app.services.queries import returns as return_queries
from app.services.queries.returns import ReturnFilters
from app.services.queries.sla_reports import ReportRange, today_local
from app.services.returns import report as returns_report

HANDLER_ROLES = sorted(r.value for r in HANDLERS)
REFUNDER_ROLES = sorted(r.value for r in REFUNDERS)
REPORT_ROLES = sorted(r.value for r in REPORT_READERS)


# The queue -----------------------------------------------------------------------------------


@bp.get("/")
def index():
    filters = ReturnFilters.from_args(request.args)
    page = return_queries.list_returns(
        filters, cursor=request.args.get("cursor"), limit=current_app.config["PAGE_SIZE"]
    )
    return render(
        "returns/index.html",
        block="rows",
        page=page,
        filters=filters,
        choices=return_queries.filter_choices(),
        counts={} if wants_fragment() else return_queries.status_counts(),
        tabs=return_queries.STATUS_TABS,
        can_create=current_user.role in HANDLER_ROLES,
        can_report=current_user.role in REPORT_ROLES,
    )


# Opening a return ----------------------------------------------------------------------------


def _new_page(order_number: str | None, *, form: NewReturnForm | None = None, error: str | None = None,
              quantities: dict[int, int] | None = None, status: int = 200):
    order, lines = return_queries.returnable(order_number) if order_number else (None, [])
    form = form or NewReturnForm(formdata=None, order=order_number)
    body = render("returns/new.html", block="new_return", order=order, lines=lines, form=form, error=error,
                  quantities=quantities or {})
    return make_response(body, status)


@bp.get("/new")
@role_required(*HANDLER_ROLES)
def new():
    """With ?order=SO-…: that order's shipped lines to choose from; without: ask which order."""
    order_number = (request.args.get("order") or "").strip() or None
    return _new_page(order_number)


def _quantities(form_data) -> dict[int, int]:
    quantities = {}
    for key, value in form_data.items():
        if key.startswith("qty-") and value.strip():
            quantities[int(key.removeprefix("qty-"))] = int(value)
    return quantities


@bp.post("/")
@role_required(*HANDLER_ROLES)
def create():
    form = NewReturnForm()
    order_number = (form.order.data or "").strip()
    if not form.validate_on_submit():
        return _new_page(order_number or None, form=form, error="Choose the reason for the return.", status=422)
    try:
        quantities = _quantities(request.form)
    except ValueError:
        return _new_page(order_number, form=form, error="Quantities must be whole numbers.", status=422)
    try:
        order, _ = return_queries.returnable(order_number)
        skus = {line.id: line.sku for line in order.lines}
        lines = [{"sku": skus[line_id], "qty": qty} for line_id, qty in quantities.items()
                 if qty and line_id in skus]
        ret = returns_service.create_return(order_number, lines, form.reason.data, reason_note=form.reason_note.data,
                                            resolution=form.resolution.data, actor=current_actor())
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        response = _new_page(order_number, form=form, error=exc.message, quantities=quantities,
                             status=exc.http_status)
        return with_toast(response, exc.message, "error") if wants_fragment() else response
    return _go(url_for("returns.detail", number=ret.number), f"{ret.number} opened for {order_number}.")


def _go(url: str, message: str) -> Response:
    """After an action that leaves the page: the browser goes to `url`, with a message."""
    flash(message, "success")
    if wants_fragment():
        response = Response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


# One return ----------------------------------------------------------------------------------


def _forms(version: int) -> dict:
    return {
        "approve": DecisionForm(formdata=None, version=version),
        "reject": DecisionForm(formdata=None, version=version),
        "cancel": DecisionForm(formdata=None, version=version),
        "receive": ReceiveForm(formdata=None, version=version),
        "refund": RefundForm(formdata=None, version=version),
        "exchange": ExchangeForm(formdata=None, version=version),
    }


def _detail_page(number: str, *, forms: dict | None = None, errors: dict | None = None,
                 open_action: str | None = None, status: int = 200):
    detail = return_queries.get_return_detail(number, role=current_user.role)
    shown = _forms(detail.ret.version)
    for name, form in (forms or {}).items():
        # The form as typed, but carrying the version now shown: sending it again is a
        # deliberate second try over what the other person recorded.
        form.version.data = detail.ret.version
        form.version.raw_data = [str(detail.ret.version)]
        shown[name] = form
    body = render(
        "returns/detail.html",
        block="return_page",
        detail=detail,
        forms=shown,
        errors=errors or {},
        open_action=open_action,
        can_see_documents=can_open(current_user.role, "documents"),
        submitted=request.form if forms else {},
    )
    return make_response(body, status)


@bp.get("/<number>")
def detail(number: str):
    return _detail_page(number)


def _done(number: str, message: str):
    if wants_fragment():
        return with_toast(_detail_page(number), message)
    flash(message, "success")
    return redirect(url_for("returns.detail", number=number), 303)


def _refused(number: str, action: str, form, exc: DomainError):
    """The form again beside the reason, with the return as it is now."""
    db.session.rollback()
    response = _detail_page(number, forms={action: form}, errors={action: exc.message}, open_action=action,
                            status=exc.http_status)
    return with_toast(response, exc.message, "error") if wants_fragment() else response


def _invalid(number: str, action: str, form, message: str):
    return _detail_page(number, forms={action: form}, errors={action: message}, open_action=action, status=422)


def _decide(number: str, action: str, call, message: str):
    form = DecisionForm()
    if not form.validate_on_submit():
        return _invalid(number, action, form, "The note is too long (500 characters at most).")
    try:
        call(form)
    except NotFound:
        raise
    except DomainError as exc:
        return _refused(number, action, form, exc)
    return _done(number, message)


@bp.post("/<number>/approve")
@role_required(*HANDLER_ROLES)
def approve(number: str):
    return _decide(number, "approve", lambda form: returns_service.approve(
        number, note=form.note.data or "", actor=current_actor(), expected_version=form.version.data),
        f"{number} approved: the customer can send the goods.")


@bp.post("/<number>/reject")
@role_required(*HANDLER_ROLES)
def reject(number: str):
    return _decide(number, "reject", lambda form: returns_service.reject(
        number, reason=form.note.data or "", actor=current_actor(), expected_version=form.version.data),
        f"{number} rejected.")


@bp.post("/<number>/cancel")
@role_required(*HANDLER_ROLES)
def cancel(number: str):
    return _decide(number, "cancel", lambda form: returns_service.cancel(
        number, reason=form.note.data or "", actor=current_actor(), expected_version=form.version.data),
        f"{number} cancelled; its units can be returned again.")


def _receipts(form_data) -> tuple[list[dict], list[str]]:
    """The receiving table: one row per return line still awaited."""
    detail_lines = {}
    for key in form_data:
        for prefix in ("qty-", "missing-"):
            if key.startswith(prefix):
                detail_lines[int(key.removeprefix(prefix))] = True
    entries, missing = [], []
    for line_id in sorted(detail_lines):
        sku = form_data.get(f"sku-{line_id}", "")
        raw = (form_data.get(f"qty-{line_id}") or "").strip()
        qty = int(raw) if raw else 0
        if qty:
            disposition = form_data.get(f"disposition-{line_id}") or Disposition.RESTOCK.value
            entries.append({
                "sku": sku,
                "qty": qty,
                "condition": form_data.get(f"condition-{line_id}") or None,
                "disposition": disposition,
                "location": (form_data.get(f"location-{line_id}") or None)
                if disposition == Disposition.RESTOCK else None,
            })
        if form_data.get(f"missing-{line_id}"):
            missing.append(sku)
    return entries, missing


@bp.post("/<number>/receive")
@role_required(*HANDLER_ROLES)
def receive(number: str):
    form = ReceiveForm()
    if not form.validate_on_submit():
        return _invalid(number, "receive", form, "The form expired; reload the page and try again.")
    try:
        entries, missing = _receipts(request.form)
    except ValueError:
        return _invalid(number, "receive", form, "Quantities must be whole numbers.")
    try:
        ret = returns_service.receive(number, entries, not_returned=missing, actor=current_actor(),
                                      expected_version=form.version.data)
    except NotFound:
        raise
    except DomainError as exc:
        return _refused(number, "receive", form, exc)
    units = sum(e["qty"] for e in entries)
    message = f"Recorded {units} unit{'s' if units != 1 else ''} received on {ret.number}."
    if missing:
        message += f" Not coming back: {', '.join(missing)}."
    return _done(number, message)


@bp.post("/<number>/refund")
@role_required(*REFUNDER_ROLES)
def refund(number: str):
    form = RefundForm()
    if not form.validate_on_submit():
        return _invalid(number, "refund", form, "The amount must be a number with at most two decimals.")
    try:
        ret = returns_service.close(number, resolution="refund", refund_amount=form.amount.data,
                                    include_shipping=form.include_shipping.data, refund_reason=form.reason.data or "",
                                    method=form.method.data, actor=current_actor(), expected_version=form.version.data)
    except NotFound:
        raise
    except DomainError as exc:
        return _refused(number, "refund", form, exc)
    return _done(number, f"{ret.number} closed: {ret.refund_total} {ret.order.currency} refunded.")


@bp.post("/<number>/exchange")
@role_required(*HANDLER_ROLES)
def exchange(number: str):
    form = ExchangeForm()
    if not form.validate_on_submit():
        return _invalid(number, "exchange", form, "The form expired; reload the page and try again.")
    try:
        ret = returns_service.close(number, resolution="exchange", actor=current_actor(),
                                    expected_version=form.version.data)
    except NotFound:
        raise
    except DomainError as exc:
        return _refused(number, "exchange", form, exc)
    return _done(number, f"{ret.number} closed: replacement order {ret.exchange_order.number} created.")


# The report ----------------------------------------------------------------------------------


@bp.get("/report")
@role_required(*REPORT_ROLES)
def report():
    period = ReportRange.from_args(request.args, today=today_local())
    return render("returns/report.html", report=returns_report.returns_report(period), period=period)


@bp.get("/report.csv")
@role_required(*REPORT_ROLES)
def report_csv():
    period = ReportRange.from_args(request.args, today=today_local())
    buffer = io.StringIO()
    csv.writer(buffer).writerows(returns_report.csv_rows(returns_report.returns_report(period)))
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="returns-{period.first}-{period.last}.csv"'
    return response


# The order page's returns section ---------------------------------------------------------------


@bp.app_template_global("order_returns_panel")
def order_returns_panel(order):
    """templates/returns/_order_returns.html, included by the order's page."""
    return return_queries.order_returns(order, current_user.role)
