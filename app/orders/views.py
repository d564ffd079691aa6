"""Orders: the list, the live board, one order's page with its actions, a customer's orders.

Views parse a form, call a service and render. An htmx request gets the region it
changed (a card with the column counts, the order's page body, the bulk results); a
plain request gets the whole page, or a redirect after a POST that worked, so a
reload always shows the same state.
"""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user

from app.auth.access import current_actor, role_required
from app.domain.errors import DomainError, IllegalTransition, NotFound, StaleVersion, ValidationFailed
from app.domain.order_states import HoldReason, OrderStatus
from app.extensions import db
from app.htmx import render, toast, wants_fragment, with_toast
from app.models.base import utcnow
from app.orders import bp
from app.orders.forms import (
    BULK_OPERATIONS,
    AddressForm,
    BulkForm,
    CancelForm,
    HoldForm,
    MoveForm,
    PaymentForm,
    ReleaseForm,
)
from app.services import bulk_orders, orders
from app.services.queries import board as board_queries
from app.services.queries import orders as order_queries
from app.services.queries.board import BoardFilters
from app.services.queries.order_actions import (
    MANUAL_HOLD_REASONS,
    ORDER_WRITERS,
    PAYMENT_TAKERS,
    is_paid,
    order_actions,
)
from app.services.queries.orders import OrderFilters

WRITERS = sorted(ORDER_WRITERS)
MANUAL_HOLD_VALUES = frozenset(h.value for h in MANUAL_HOLD_REASONS)


# The list --------------------------------------------------------------------------


@bp.get("/")
def index():
    filters = OrderFilters.from_args(request.args)
    page = order_queries.list_orders(filters, cursor=request.args.get("cursor"), limit=current_app.config["PAGE_SIZE"])
    return render("orders/index.html", block="rows", page=page, filters=filters, choices=order_queries.filter_choices(),
                  search_hint=order_queries.SEARCH_HINT)


# The board -------------------------------------------------------------------------


def _board_state() -> tuple[BoardFilters, frozenset[str]]:
    return BoardFilters.from_args(request.args), board_queries.expanded_from_args(request.args.getlist("open"))


def _board_args(filters: BoardFilters, expanded: frozenset[str]) -> dict:
    """What a link must carry to show the same board: its filters and opened columns."""
    args: dict = filters.as_args()
    if expanded:
        args["open"] = sorted(expanded)
    return args


def _board_context(filters: BoardFilters, expanded: frozenset[str]) -> dict:
    return {
        "board_args": _board_args(filters, expanded),
        "can_move": current_user.role in ORDER_WRITERS,
        "now": utcnow(),
    }


def _board_page(filters: BoardFilters, expanded: frozenset[str], *, cursors: dict | None = None,
                bulk_form: BulkForm | None = None, bulk_results=None, status: int = 200):
    now = utcnow()
    board = board_queries.load_board(filters, expanded=expanded, now=now, cursors=cursors)
    toggle_args = {
        status.value: _board_args(filters, expanded ^ {status.value}) for status in board_queries.COLLAPSIBLE
    }
    body = render(
        "orders/board.html",
        board=board,
        toggle_args=toggle_args,
        filters=filters,
        choices=board_queries.filter_choices(),
        search_hint=order_queries.SEARCH_HINT,
        bulk_form=bulk_form or BulkForm(formdata=None),
        bulk_operations=BULK_OPERATIONS,
        bulk_results=bulk_results,
        changes=None,
        **_board_context(filters, expanded),
    )
    return body, status


@bp.get("/board")
def board():
    """The board; with ?column=<status>&cursor=… htmx gets that column's next cards."""
    filters, expanded = _board_state()
    column, cursor = request.args.get("column"), request.args.get("cursor")
    if column is not None and column not in OrderStatus.values():
        raise ValidationFailed(f"“{column}” is not a board column.", details={"column": column})
    if column and wants_fragment():
        context = _board_context(filters, expanded)
        page = board_queries.column_page(column, filters, now=context["now"], cursor=cursor)
        return render("orders/board.html", block="column_page",
                      column=board_queries.Column(OrderStatus(column), 0, False, page), **context)
    return _board_page(filters, expanded, cursors={column: cursor} if column and cursor else None)


@bp.get("/board/changes")
def board_changes():
    """What changed since the board's token: 204 when nothing did, otherwise the changed
    cards, the counts and the new token (out-of-band). A plain request gets the board."""
    filters, expanded = _board_state()
    if not wants_fragment():
        return _board_page(filters, expanded)
    context = _board_context(filters, expanded)
    pending = (request.args.get("pending") or "").split(",")
    changes = board_queries.changes_since(request.args.get("since"), filters, expanded=expanded,
                                          now=context["now"], pending=pending)
    if changes is None:
        return "", 204
    return render("orders/board.html", block="changes", changes=changes, **context)


@bp.post("/<number>/move")
@role_required(*WRITERS)
def move(number: str):
    form = MoveForm()
    from_detail = form.view.data == "detail"
    if not form.validate_on_submit():
        error = ValidationFailed("Choose a status to move the order to.")
        return _detail_refused(number, "move", form, error) if from_detail else _card_refused(number, error)
    # Read before the move commits (which expires what the session loaded, the user too).
    context = _board_context(*_board_state())
    before = None if from_detail else board_queries.status_of(number)  # the column the card leaves
    try:
        orders.transition(number, form.to.data, actor=current_actor(), expected_version=form.version.data,
                          reason=form.reason.data or None)
    except NotFound:
        raise
    except DomainError as exc:
        return _detail_refused(number, "move", form, exc) if from_detail else _card_refused(number, exc)
    message = f"{number} moved to {OrderStatus(form.to.data).label}."  # a move lands where it was asked to
    if from_detail:
        return _detail_done(number, message)
    return _card_done(number, message, recount={before, form.to.data} - {None}, context=context)


def _card_response(number: str, status: int, recount: set[str], context: dict | None = None):
    """The card as the board shows it now, and the counts of the columns in `recount`."""
    filters, expanded = _board_state()
    context = context or _board_context(filters, expanded)
    changes = board_queries.cards_for([number], filters, expanded=expanded, now=context["now"], recount=recount)
    body = render("orders/board.html", block="move_result", changes=changes, number=number, **context)
    return make_response(body, status)


def _card_done(number: str, message: str, recount: set[str], context: dict):
    if wants_fragment():
        return with_toast(_card_response(number, 200, recount, context), message)
    flash(message, "success")
    filters, expanded = _board_state()
    return redirect(url_for("orders.board", **_board_args(filters, expanded)), 303)


def _card_refused(number: str, exc: DomainError):
    """The move did not happen: htmx gets the card as it really is (the page puts it back
    in its column) with the reason; a plain form goes back to the board with it."""
    db.session.rollback()
    if wants_fragment():
        # Nothing moved: no column needs recounting (another person's move comes with the next poll).
        return with_toast(_card_response(number, exc.http_status, set()), exc.message, "error")
    filters, expanded = _board_state()
    return toast(exc.message, level="error", redirect_to=url_for("orders.board", **_board_args(filters, expanded)))


@bp.post("/bulk")
@role_required(*WRITERS)
def bulk():
    form = BulkForm()
    filters, expanded = _board_state()
    if not form.validate_on_submit():
        return _bulk_answer(form, filters, expanded, results=None, status=422)
    action, argument = form.action()
    try:
        results = bulk_orders.apply(form.numbers.data, action, argument=argument, note=form.note.data or None,
                                    actor=current_actor())
    except ValidationFailed as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _bulk_answer(form, filters, expanded, results=None, status=422)
    return _bulk_answer(form, filters, expanded, results=results, status=200)


def _bulk_answer(form: BulkForm, filters: BoardFilters, expanded: frozenset[str], *, results, status: int):
    if not wants_fragment():
        return _board_page(filters, expanded, bulk_form=form, bulk_results=results, status=status)
    context = _board_context(filters, expanded)
    changes = None
    if results:
        changes = board_queries.cards_for([r.number for r in results if r.ok], filters, expanded=expanded,
                                          now=context["now"])
    body = render("orders/board.html", block="bulk_result", bulk_form=form, bulk_results=results,
                  changes=changes, **context)
    response = make_response(body, status)
    if results:
        failed = sum(1 for r in results if not r.ok)
        done = len(results) - failed
        summary = f"{done} of {len(results)} orders changed" + (f"; {failed} refused." if failed else ".")
        with_toast(response, summary, "warning" if failed else "success")
    return response


# One order -------------------------------------------------------------------------


def _set_version(form, version: int) -> None:
    """Put the order's current version in a form shown again (its hidden field renders raw_data)."""
    form.version.data = version
    form.version.raw_data = [str(version)]


def _default_forms(order) -> dict:
    return {
        "move": MoveForm(formdata=None, version=order.version, view="detail"),
        "payment": PaymentForm(formdata=None, amount=max(order.total - order.paid_amount, 0) or None),
        "hold": HoldForm(formdata=None, version=order.version,
                         reason=order.hold_reason if order.hold_reason in MANUAL_HOLD_VALUES else HoldReason.MANUAL),
        "release": ReleaseForm(formdata=None, version=order.version,
                               to=OrderStatus.READY.value if is_paid(order) else OrderStatus.NEW.value),
        "cancel": CancelForm(formdata=None, version=order.version),
        "address": AddressForm.for_order(order),
    }


def _detail_page(number: str, *, forms: dict | None = None, errors: dict | None = None, conflict: dict | None = None,
                 open_action: str | None = None, status: int = 200):
    detail = order_queries.get_order_detail(number)
    shown = _default_forms(detail.order)
    for name, form in (forms or {}).items():
        if hasattr(form, "version"):
            _set_version(form, detail.order.version)
        shown[name] = form
    body = render(
        "orders/detail.html",
        block="order_page",
        detail=detail,
        actions=order_actions(detail.order, current_user.role),
        forms=shown,
        errors=errors or {},
        conflict=conflict,
        open_action=open_action,
    )
    return body, status


@bp.get("/<number>")
def detail(number: str):
    return _detail_page(number)


def _detail_done(number: str, message: str):
    if wants_fragment():
        body, _ = _detail_page(number)
        return with_toast(make_response(body, 200), message)
    flash(message, "success")
    return redirect(url_for("orders.detail", number=number), 303)


def _detail_refused(number: str, action: str, form, exc: DomainError):
    """The form again, beside the reason, with the order as it is now."""
    db.session.rollback()
    body, status = _detail_page(number, forms={action: form}, errors={action: exc.message}, open_action=action,
                                status=exc.http_status)
    response = make_response(body, status)
    return with_toast(response, exc.message, "error") if wants_fragment() else response


def _invalid(number: str, action: str, form):
    return _detail_page(number, forms={action: form}, open_action=action, status=422)


@bp.post("/<number>/payments")
@role_required(*sorted(PAYMENT_TAKERS))
def record_payment(number: str):
    form = PaymentForm()
    if not form.validate_on_submit():
        return _invalid(number, "payment", form)
    try:
        payment = orders.record_payment(number, form.amount.data, method=form.method.data,
                                        reference=form.reference.data or "", actor=current_actor())
    except NotFound:
        raise
    except DomainError as exc:
        return _detail_refused(number, "payment", form, exc)
    return _detail_done(number, f"Recorded a payment of {payment.amount} on {number}.")


@bp.post("/<number>/hold")
@role_required(*WRITERS)
def hold(number: str):
    form = HoldForm()
    if not form.validate_on_submit():
        return _invalid(number, "hold", form)
    try:
        order = orders.set_hold(number, form.reason.data, note=form.note.data or None, actor=current_actor(),
                                expected_version=form.version.data)
    except NotFound:
        raise
    except DomainError as exc:
        return _detail_refused(number, "hold", form, exc)
    return _detail_done(number, f"{order.number} is on hold for {HoldReason(order.hold_reason).label}.")


@bp.post("/<number>/release")
@role_required(*WRITERS)
def release(number: str):
    form = ReleaseForm()
    if not form.validate_on_submit():
        return _invalid(number, "release", form)
    try:
        if orders.get_order(number).status != OrderStatus.ON_HOLD:
            raise IllegalTransition(f"{number} is not on hold; there is nothing to release.")
        order = orders.transition(number, form.to.data, actor=current_actor(), expected_version=form.version.data)
    except NotFound:
        raise
    except DomainError as exc:
        return _detail_refused(number, "release", form, exc)
    return _detail_done(number, f"{order.number} released to {OrderStatus(order.status).label}.")


@bp.post("/<number>/cancel")
@role_required(*WRITERS)
def cancel(number: str):
    form = CancelForm()
    if not form.validate_on_submit():
        return _invalid(number, "cancel", form)
    try:
        order = orders.cancel(number, reason=form.reason.data, actor=current_actor(),
                              expected_version=form.version.data)
    except NotFound:
        raise
    except DomainError as exc:
        return _detail_refused(number, "cancel", form, exc)
    return _detail_done(number, f"{order.number} is cancelled; its stock is released.")


@bp.post("/<number>/address")
@role_required(*WRITERS)
def edit_address(number: str):
    form = AddressForm()
    if not form.validate_on_submit():
        return _invalid(number, "address", form)
    try:
        orders.update_address(number, form.values(), actor=current_actor(), expected_version=form.version.data)
    except NotFound:
        raise
    except StaleVersion as exc:
        # Nothing was saved. Show what the order says now beside what was typed; the form
        # now carries the current version, so saving again is a deliberate overwrite.
        db.session.rollback()
        fresh = orders.get_order(number)
        conflict = {name: getattr(fresh, f"ship_{name}") for name in AddressForm.FIELDS}
        body, status = _detail_page(number, forms={"address": form}, errors={"address": exc.message},
                                    conflict=conflict, open_action="address", status=exc.http_status)
        response = make_response(body, status)
        return with_toast(response, exc.message, "error") if wants_fragment() else response
    except DomainError as exc:
        return _detail_refused(number, "address", form, exc)
    return _detail_done(number, f"Saved the ship-to address of {number}.")


# A customer ------------------------------------------------------------------------


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int):
    overview = order_queries.get_customer_overview(customer_id, cursor=request.args.get("cursor"),
                                                   limit=current_app.config["PAGE_SIZE"])
    return render("orders/customer.html", block="order_rows", overview=overview, page=overview.orders)
