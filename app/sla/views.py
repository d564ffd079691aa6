"""SLA for managers: what is at risk or breached now, compliance, reports, the outbox."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, abort, current_app, make_response, request, stream_with_context, url_for

from app.auth.access import current_actor
from app.domain.enums import NotificationKind, NotificationStatus
from app.domain.errors import DomainError
from app.extensions import db
from app.htmx import render, toast, wants_fragment, with_toast
from app.models.base import utcnow
from app.services import health, notifications
from app.services.notifications import NotificationFilters
from app.services.queries import sla as sla_queries
from app.services.queries import sla_reports as reports
from app.services.queries.filters import choice_arg, text_arg
from app.services.queries.sla import ClockFilters
from app.sla import bp

# The page's three lists: cursor parameter -> (template block, name in the template, query).
LISTS = {
    "risk_cursor": ("risk_rows", "risk", sla_queries.at_risk_clocks),
    "breach_cursor": ("breach_rows", "breached", sla_queries.breached_clocks),
    "cursor": ("rows", "page", sla_queries.running_clocks),
}


@bp.get("/")
def index():
    filters = ClockFilters.from_args(request.args)
    now = utcnow()
    size = current_app.config["PAGE_SIZE"]
    asked = next((param for param in LISTS if request.args.get(param)), None)
    context = {"filters": filters, "choices": sla_queries.filter_choices(), "now": now}
    if wants_fragment() and asked:
        # "Load more" of one list: only its next rows.
        block, name, fetch = LISTS[asked]
        page = fetch(filters, now=now, cursor=request.args[asked], limit=size)
        return render("sla/index.html", block=block, **{name: page}, **context)
    # A plain request (no JavaScript) that followed a "load more" link shows that list
    # from its cursor; the other lists start at the top.
    for param, (_, name, fetch) in LISTS.items():
        context[name] = fetch(filters, now=now, cursor=request.args.get(param), limit=size)
    report = sla_queries.compliance(now=now, kind=filters.kind)
    return render(
        "sla/index.html",
        counts=sla_queries.clock_counts(now=now),
        report=report,
        chart=sla_queries.weekly_chart(report),
        scheduler=health.scheduler_health(now),
        **context,
    )


def _csv(filename: str, rows: Iterable[list]) -> Response:
    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/export/<which>.csv")
def export(which: str):
    filters = ClockFilters.from_args(request.args)
    now = utcnow()
    stamp = now.strftime("%Y%m%d")
    if which == "compliance":
        report = sla_queries.compliance(now=now, kind=filters.kind)
        return _csv(f"sla-compliance-{stamp}.csv", sla_queries.compliance_csv_rows(report))
    if which in ("at_risk", "breached"):
        return _csv(f"sla-{which.replace('_', '-')}-{stamp}.csv", sla_queries.clocks_csv_rows(which, filters, now=now))
    abort(404)


# Reports ---------------------------------------------------------------------------------


@bp.get("/reports")
def reports_page():
    period = reports.ReportRange.from_args(request.args, today=reports.today_local())
    sales = reports.sales_by_channel_day(period)
    return render("sla/reports.html", period=period, sales=sales, sales_totals=reports.sales_totals(sales),
                  lead_times=reports.lead_times(period), holds=reports.holds(period), hours=reports.hours_text)


REPORT_CSV = {"sales": reports.sales_csv_rows, "lead_times": reports.lead_time_csv_rows,
              "holds": reports.holds_csv_rows}


@bp.get("/reports/<which>.csv")
def report_csv(which: str):
    if which not in REPORT_CSV:
        abort(404)
    period = reports.ReportRange.from_args(request.args, today=reports.today_local())
    return _csv(f"{which.replace('_', '-')}-{period.first}-{period.last}.csv", REPORT_CSV[which](period))


# The outbox -------------------------------------------------------------------------------


def _outbox_filters() -> NotificationFilters:
    args = request.args
    return NotificationFilters(order=text_arg(args, "order", 20),
                               status=choice_arg(args, "status", NotificationStatus.values()),
                               kind=choice_arg(args, "kind", NotificationKind.values()))


@bp.get("/outbox")
def outbox():
    filters = _outbox_filters()
    page = notifications.list_notifications(filters, cursor=request.args.get("cursor"),
                                            limit=current_app.config["PAGE_SIZE"])
    return render("sla/outbox.html", block="rows", page=page, filters=filters,
                  choices={"status": [(s, s) for s in NotificationStatus.values()],
                           "kind": [(k.value, k.label) for k in NotificationKind]},
                  smtp=bool(current_app.config.get("SMTP_HOST")), scheduler=health.scheduler_health())


@bp.post("/outbox/<int:notification_id>/resend")
def resend(notification_id: int):
    try:
        notification = notifications.resend(notification_id, actor=current_actor(), now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        if exc.http_status == 404:
            abort(404)
        return toast(exc.message, level="error", status=exc.http_status, redirect_to=url_for("sla.outbox"))
    message = f"{notification.dedup_key} will be sent again."
    if wants_fragment():
        notification.order_number = notification.order.number if notification.order_id else None
        return with_toast(make_response(render("sla/outbox.html", block="row", n=notification)), message)
    return toast(message, level="success", redirect_to=request.referrer or url_for("sla.outbox"))
