"""Inventory: the stock grid with its actions (receive, adjust, transfer), one level's
ledger, and the grid as CSV.

An action's form sits above the grid, pre-filled from the row it was opened from.
htmx: a refusal swaps the form back with the reason beside the field; success swaps
a fresh form and the changed grid rows (out of band) and shows a toast. Without
JavaScript the same URLs serve whole pages and a success redirects to the product's
levels with a flashed message.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, request, stream_with_context, url_for

from app.auth.access import current_actor, role_required
from app.domain.errors import DomainError
from app.htmx import render, wants_fragment
from app.inventory import bp
from app.inventory.answers import FORM_REFUSED, done, refused
from app.inventory.csv_export import stock_csv
from app.inventory.forms import ACTION_FORMS, REASON_LABELS, AdjustForm, ReceiveForm, StockActionForm, TransferForm
from app.services import inventory
from app.services.queries import inventory as stock_queries
from app.services.queries.inventory import LevelRow, StockFilters

STOCK_WRITERS = ("ops", "manager", "admin")


def _stock_page(action: str, form: StockActionForm, *, status: int = 200, changed=(), added=()):
    """The action panel alone (htmx) or the whole stock page around it."""
    context = {"action": action, "form": form, "changed": changed, "added": added,
               "prefilled": bool(form.sku.data)}
    if wants_fragment():
        return render("inventory/index.html", block="action_panel", **context), status
    # A page opened for one product's action lists that product's levels under the form.
    filters = StockFilters(q=form.sku.data) if form.sku.data else StockFilters()
    page = stock_queries.stock_grid(filters, limit=current_app.config["PAGE_SIZE"])
    return render("inventory/index.html", page=page, filters=filters, choices=stock_queries.filter_choices(),
                  **context), status


def _blank(action: str, **data) -> StockActionForm:
    return ACTION_FORMS[action](formdata=None, data=data).offer_locations(stock_queries.location_options())


@bp.get("/")
def index():
    filters = StockFilters.from_args(request.args)
    page = stock_queries.stock_grid(filters, cursor=request.args.get("cursor"), limit=current_app.config["PAGE_SIZE"])
    return render(
        "inventory/index.html", block="rows", page=page, filters=filters, choices=stock_queries.filter_choices(),
        # "Load more" and filtering swap rows only; the form is for the whole page.
        action="receive", form=None if wants_fragment() else _blank("receive"), changed=(), added=(), prefilled=False,
    )


def _open_form(action: str):
    """The form for one action, pre-filled from the grid row it was opened from."""
    sku, location = request.args.get("sku", "")[:64], request.args.get("location", "")[:32]
    where = {"from_location": location} if action == "transfer" else {"location": location}
    return _stock_page(action, _blank(action, sku=sku, **where))


@bp.get("/receive")
def receive_form():
    return _open_form("receive")


@bp.get("/adjust")
def adjust_form():
    return _open_form("adjust")


@bp.get("/transfer")
def transfer_form():
    return _open_form("transfer")


def _changed_rows(levels, existed: set[str]) -> tuple[list[LevelRow], list[LevelRow]]:
    rows = [LevelRow(level) for level in levels]
    return ([r for r in rows if r.level.location.code in existed],
            [r for r in rows if r.level.location.code not in existed])


def _after(action: str, form: StockActionForm, levels, existed: set[str], message: str, **keep):
    changed, added = _changed_rows(levels, existed)
    return done(
        message,
        url_for("inventory.index", q=form.sku.data),
        lambda: _stock_page(action, _blank(action, sku=form.sku.data, **keep), changed=changed, added=added)[0],
    )


@bp.post("/receive")
@role_required(*STOCK_WRITERS)
def receive():
    form = ReceiveForm().offer_locations(stock_queries.location_options())
    if not form.validate_on_submit():
        return _stock_page("receive", form, status=FORM_REFUSED)
    sku, location = form.sku.data, form.location.data
    existed = stock_queries.existing_level_codes(sku, [location])
    try:
        [level] = inventory.receive(location=location, sku=sku, qty=form.qty.data,
                                    reference=form.reference.data or "", actor=current_actor())
    except DomainError as exc:
        return _stock_page("receive", form, status=refused(exc, form, field="qty"))
    message = f"Received {form.qty.data} × {sku} at {location}. On hand now {level.on_hand}."
    return _after("receive", form, [level], existed, message, location=location)


@bp.post("/adjust")
@role_required(*STOCK_WRITERS)
def adjust():
    form = AdjustForm().offer_locations(stock_queries.location_options())
    if not form.validate_on_submit():
        return _stock_page("adjust", form, status=FORM_REFUSED)
    sku, location, delta = form.sku.data, form.location.data, form.delta.data
    existed = stock_queries.existing_level_codes(sku, [location])
    try:
        [level] = inventory.adjust(location=location, sku=sku, delta=delta, reason=form.reason.data,
                                   note=form.note.data or "", actor=current_actor())
    except DomainError as exc:
        return _stock_page("adjust", form, status=refused(exc, form, field="delta"))
    message = (f"{sku} at {location}: {delta:+d} ({REASON_LABELS[form.reason.data].lower()}). "
               f"On hand now {level.on_hand}.")
    return _after("adjust", form, [level], existed, message, location=location)


@bp.post("/transfer")
@role_required(*STOCK_WRITERS)
def transfer():
    form = TransferForm().offer_locations(stock_queries.location_options())
    if not form.validate_on_submit():
        return _stock_page("transfer", form, status=FORM_REFUSED)
    sku, source, dest, qty = form.sku.data, form.from_location.data, form.to_location.data, form.qty.data
    existed = stock_queries.existing_level_codes(sku, [source, dest])
    try:
        out_level, in_level = inventory.transfer(from_location=source, to_location=dest, sku=sku, qty=qty,
                                                 reference=form.reference.data or "", actor=current_actor())
    except DomainError as exc:
        # The source may be inactive, the destination may not: a "location" refusal is about the destination.
        return _stock_page("transfer", form,
                           status=refused(exc, form, field="qty", aliases={"location": "to_location"}))
    message = (f"Moved {qty} × {sku} from {source} to {dest}. "
               f"On hand now {out_level.on_hand} at {source}, {in_level.on_hand} at {dest}.")
    return _after("transfer", form, [out_level, in_level], existed, message, from_location=source, to_location=dest)


@bp.get("/export.csv")
def export_csv():
    """The grid as CSV, with the filters it is showing; streamed a page of levels at a time."""
    filters = StockFilters.from_args(request.args)
    rows = stock_queries.grid_rows_for_export(filters)
    name = f"stock-{datetime.now(ZoneInfo(current_app.config['TIMEZONE'])):%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(stock_csv(rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/<sku>/<location_code>")
def ledger(sku: str, location_code: str):
    level = stock_queries.level_ledger(
        sku, location_code, cursor=request.args.get("cursor"), limit=current_app.config["PAGE_SIZE"]
    )
    return render("inventory/ledger.html", block="rows", ledger=level, page=level.page)
