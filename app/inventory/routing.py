"""Routing preview: which location each open order would ship from if routed afresh,
and re-routing the selected orders for real.

The preview writes nothing (app.services.routing_preview.preview); Apply re-routes
exactly the orders that were previewed, oldest first, in one transaction.
"""

from __future__ import annotations

from flask import current_app, request, url_for

from app.auth.access import current_actor, role_required
from app.domain.errors import DomainError
from app.htmx import render, wants_fragment
from app.inventory import bp
from app.inventory.answers import FORM_REFUSED, done, refused
from app.inventory.forms import RoutingSelectionForm
from app.services import routing_preview
from app.services.queries import inventory as stock_queries
from app.services.queries.inventory import RoutingFilters

ROUTERS = ("ops", "manager", "admin")
TEMPLATE = "inventory/routing.html"


def _routing_page(*, block: str | None = None, status: int = 200, **result):
    """The result region alone (htmx), or the list of open orders with it."""
    form = result.pop("form", None) or RoutingSelectionForm(formdata=None)
    context = {"form": form, "selected": set(form.orders.data or ()), **result}
    if block and wants_fragment():
        return render(TEMPLATE, block=block, **context), status
    filters = RoutingFilters.from_args(request.args)
    page = stock_queries.routable_orders(filters, cursor=request.args.get("cursor"),
                                         limit=current_app.config["PAGE_SIZE"])
    return render(TEMPLATE, block=block, page=page, filters=filters,
                  choices=stock_queries.routing_filter_choices(), **context), status


@bp.get("/routing")
def routing():
    return _routing_page(block="rows")


@bp.post("/routing/preview")
@role_required(*ROUTERS)
def routing_preview_orders():
    form = RoutingSelectionForm()
    if not form.validate_on_submit():
        return _routing_page(block="routing_result", status=FORM_REFUSED, form=form)
    try:
        routed = routing_preview.preview(form.orders.data)
    except DomainError as exc:
        return _routing_page(block="routing_result", status=refused(exc, form, field="orders"), form=form)
    return _routing_page(block="routing_result", form=form, routed=routed)


@bp.post("/routing/apply")
@role_required(*ROUTERS)
def routing_apply():
    form = RoutingSelectionForm()
    if not form.validate_on_submit():
        return _routing_page(block="routing_result", status=FORM_REFUSED, form=form)
    try:
        orders = routing_preview.apply(form.orders.data, actor=current_actor())
    except DomainError as exc:
        return _routing_page(block="routing_result", status=refused(exc, form, field="orders"), form=form)
    numbers = [o.number for o in orders]
    skipped = len(form.orders.data) - len(numbers)
    message = (f"Re-routed {len(numbers)} order{'s' if len(numbers) != 1 else ''}"
               + (f"; {skipped} no longer open for routing were left alone." if skipped else "."))
    return done(message, url_for("inventory.routing"),
                lambda: _routing_page(block="routing_result", form=form,
                                      applied=stock_queries.routing_outcome(numbers))[0])
