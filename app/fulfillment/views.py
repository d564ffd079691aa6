"""Fulfillment: pick queues per location, waves and pick lists, packing by scanner,
shipping and delivery, packing slips."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, request, url_for
from flask_login import current_user

from app.auth.access import current_actor
from app.domain.carriers import carrier_name, tracking_link
from app.domain.errors import DomainError
from app.domain.roles import can_open
from app.extensions import db
from app.fulfillment import bp
from app.fulfillment.forms import NextWaveForm, ScanForm, ShipForm
from app.htmx import render, toast, wants_fragment, with_toast
from app.services.documents import slips
from app.services.fulfillment import packing, parcels, shipping, waves
from app.services.fulfillment.common import get_location
from app.services.queries import fulfillment as fulfillment_queries
from app.services.queries.fulfillment import QueueFilters, ShipmentFilters


def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.get("/fulfillment/")
def index():
    filters = ShipmentFilters.from_args(request.args)
    limit = current_app.config["PAGE_SIZE"]
    shipments = fulfillment_queries.list_shipments(filters, cursor=request.args.get("cursor"), limit=limit)
    waves_page = fulfillment_queries.list_waves(filters, cursor=request.args.get("wave_cursor"), limit=limit)
    # Each list's "load more" carries only its own cursor, which says which rows to send.
    block = "wave_rows" if "wave_cursor" in request.args else "rows"
    return render(
        "fulfillment/index.html",
        block=block,
        page=shipments,
        waves=waves_page,
        filters=filters,
        choices=fulfillment_queries.filter_choices(),
        queues=fulfillment_queries.location_queues() if block == "rows" and not request.args.get("cursor") else [],
    )


# Pick queue and waves ---------------------------------------------------------------


@bp.get("/fulfillment/pick/<code>")
def queue(code):
    location = get_location(code)
    filters = QueueFilters.from_args(request.args)
    page = fulfillment_queries.pick_queue(
        location, filters, cursor=request.args.get("cursor"), limit=current_app.config["PAGE_SIZE"]
    )
    return render(
        "fulfillment/queue.html",
        block="queue_rows",
        location=location,
        page=page,
        filters=filters,
        choices=fulfillment_queries.queue_choices(),
        suggestions=fulfillment_queries.parcel_suggestions(location),
        next_form=NextWaveForm(),
    )


@bp.post("/fulfillment/pick/<code>/waves")
def create_wave(code):
    filters = QueueFilters.from_args(request.form)
    back = url_for("fulfillment.queue", code=code, **filters.as_args())
    try:
        if request.form.get("mode") == "next":
            form = NextWaveForm()
            if not form.validate_on_submit():
                return toast(
                    "Choose how many orders (1 to 200) the wave should take.",
                    level="error",
                    status=422,
                    redirect_to=back,
                )
            wave = waves.create_wave(code, next_n=form.count.data, filters=filters, actor=current_actor())
        else:
            wave = waves.create_wave(code, order_numbers=request.form.getlist("orders"), actor=current_actor())
    except DomainError as exc:
        db.session.rollback()
        return toast(exc.message, level="error", status=exc.http_status, redirect_to=back)
    return _go(url_for("fulfillment.wave", number=wave.number), f"Wave {wave.number} started.")


@bp.post("/fulfillment/pick/<code>/parcels/accept")
def accept_parcel(code):
    try:
        wave = parcels.accept(code, request.form.getlist("orders"), actor=current_actor())
    except DomainError as exc:
        db.session.rollback()
        return toast(
            exc.message, level="error", status=exc.http_status, redirect_to=url_for("fulfillment.queue", code=code)
        )
    return _go(
        url_for("fulfillment.wave", number=wave.number),
        f"Wave {wave.number} started: these orders are packed as one parcel.",
    )


@bp.post("/fulfillment/pick/<code>/parcels/dismiss")
def dismiss_parcel(code):
    back = url_for("fulfillment.queue", code=code)
    try:
        parcels.dismiss(code, request.form.getlist("orders"), actor=current_actor())
    except DomainError as exc:
        db.session.rollback()
        return toast(exc.message, level="error", status=exc.http_status, redirect_to=back)
    return _go(back, "Suggestion dismissed; these orders ship separately.", level="info")


def _go(url: str, message: str, level: str = "success") -> Response:
    """After an action: the browser goes to `url` (a whole page), with a message."""
    flash(message, level)
    if wants_fragment():
        response = Response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


@bp.get("/fulfillment/waves/<number>")
def wave(number):
    return render("fulfillment/wave.html", detail=fulfillment_queries.wave_detail(number))


@bp.get("/fulfillment/waves/<number>/pick-list.pdf")
def pick_list_pdf(number):
    return _pdf(slips.pick_list_pdf(number), f"pick-list-{number}.pdf")


# One shipment: pack, ship, deliver --------------------------------------------------


def _shipment_page(
    number: str,
    *,
    status: int = 200,
    scan_error: str | None = None,
    scanned: str | None = None,
    ship_form: ShipForm | None = None,
    ship_error: str | None = None,
    block: str = "work",
):
    detail = fulfillment_queries.shipment_detail(number)
    retarget = block == "pack_status" and detail.stage != "packing"
    body = render(
        "fulfillment/shipment.html",
        block="work" if retarget else block,
        detail=detail,
        scan_form=ScanForm(formdata=None),
        scan_error=scan_error,
        scanned=scanned,
        ship_form=ship_form or ShipForm(formdata=None),
        ship_error=ship_error,
        can_see_invoices=can_open(current_user.role, "documents"),
    )
    response = current_app.make_response((body, status))
    if retarget and wants_fragment():
        # The parcel is complete: the whole work area changes from scanning to shipping.
        response.headers["HX-Retarget"] = "#work"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


@bp.get("/fulfillment/shipments/<number>")
def shipment(number):
    return _shipment_page(number)


@bp.post("/fulfillment/shipments/<number>/scan")
def scan(number):
    """One scanned unit. htmx gets the packing status back (or the shipping form once the
    parcel is complete); a refused unit answers 422/409 with a red message and a toast."""
    form = ScanForm()
    code = (form.code.data or "").strip()
    try:
        outcome = packing.scan(number, code, actor=current_actor())
    except DomainError as exc:
        db.session.rollback()
        if not wants_fragment():
            return toast(
                exc.message,
                level="error",
                status=exc.http_status,
                redirect_to=url_for("fulfillment.shipment", number=number),
            )
        response = _shipment_page(number, status=exc.http_status, scan_error=exc.message, block="pack_status")
        return with_toast(response, exc.message, "error")
    if outcome.parcel_packed:
        message = f"Parcel complete: {outcome.sku} was the last unit. Print the packing slip and ship it."
    else:
        message = f"{outcome.sku}: {outcome.packed} of {outcome.needed} packed."
    if not wants_fragment():
        return toast(message, level="success", redirect_to=url_for("fulfillment.shipment", number=number))
    response = _shipment_page(number, scanned=message, block="pack_status")
    return with_toast(response, message, "success") if outcome.parcel_packed else response


@bp.post("/fulfillment/shipments/<number>/ship")
def ship(number):
    form = ShipForm()
    if not form.validate_on_submit():
        return _shipment_page(
            number, status=422, ship_form=form, ship_error="Choose a carrier and enter the tracking number."
        )
    quantities = {}
    for key, value in request.form.items():
        if key.startswith("qty-"):
            try:
                quantities[int(key.removeprefix("qty-"))] = int(value or 0)
            except ValueError:
                return _shipment_page(
                    number, status=422, ship_form=form, ship_error="Quantities must be whole numbers."
                )
    try:
        shipped = shipping.ship_parcel(
            number,
            carrier=form.carrier.data,
            tracking_number=form.tracking_number.data,
            quantities=quantities or None,
            actor=current_actor(),
        )
    except DomainError as exc:
        db.session.rollback()
        return _shipment_page(number, status=exc.http_status, ship_form=form, ship_error=exc.message)
    numbers = ", ".join(s.number for s in shipped)
    return _go(url_for("fulfillment.shipment", number=number), f"Shipped {numbers}.")


@bp.post("/fulfillment/shipments/<number>/abort")
def abort(number):
    """Put a parcel back: picking it failed; its units return to the pick queue."""
    try:
        shipment = waves.abort_shipment(number, reason=request.form.get("reason", ""), actor=current_actor())
    except DomainError as exc:
        db.session.rollback()
        return toast(
            exc.message,
            level="error",
            status=exc.http_status,
            redirect_to=url_for("fulfillment.shipment", number=number),
        )
    location = shipment.location.code
    return _go(url_for("fulfillment.queue", code=location), f"{number} put back; its order is in the pick queue again.")


@bp.post("/fulfillment/shipments/<number>/deliver")
def deliver(number):
    try:
        shipping.mark_delivered(number, actor=current_actor())
    except DomainError as exc:
        db.session.rollback()
        return toast(
            exc.message,
            level="error",
            status=exc.http_status,
            redirect_to=url_for("fulfillment.shipment", number=number),
        )
    return _go(url_for("fulfillment.shipment", number=number), f"{number} delivered.")


@bp.get("/shipments/<number>/packing-slip.pdf")
def packing_slip_pdf(number):
    return _pdf(slips.packing_slip_pdf(number), f"packing-slip-{number}.pdf")


@bp.app_template_filter("carrier_name")
def carrier_name_filter(code: str | None) -> str:
    return carrier_name(code)


@bp.app_template_filter("tracking_link")
def tracking_link_filter(number: str | None, carrier: str | None) -> str | None:
    return tracking_link(carrier, number)
