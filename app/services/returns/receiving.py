"""Receiving a return's parcel: what arrived, its condition, where it went.

Restocked units are a `return_restock` ledger move at the chosen (active) location, so
they are available at once, and orders waiting on hold for those products are re-tried.

Written-off units never re-entered stock: recording them as a `write_off` move would
need a +n/−n pair at some location that never held them (a write_off of 0 is refused by
the ledger's checks, and a receipt's location is kept only for restocks). So a write-off
is the ReturnReceipt itself (qty, condition, disposition) plus a `return_written_off`
audit event; no level and no ledger line changes, and on_hand stays the sum of its moves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select

from app.domain.enums import Disposition, MoveKind
from app.domain.errors import ValidationFailed
from app.domain.return_states import ReturnStatus, check_can_receive
from app.domain.returns import check_may_handle, plan_receipts
from app.extensions import db
from app.models import Location, Return, ReturnReceipt
from app.models.base import utcnow
from app.services import review
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.inventory import add_move, lock_level
from app.services.returns.common import expected_lines, load_for_change, set_status, touch


def _locations(codes: set[str]) -> dict[str, Location]:
    found = {loc.code: loc for loc in db.session.scalars(select(Location).where(Location.code.in_(codes)))}
    missing = sorted(codes - set(found))
    if missing:
        raise ValidationFailed(f"There is no location {', '.join(missing)}.",
                       details={"location": [f"Unknown location {code}." for code in missing]})
    inactive = sorted(code for code, loc in found.items() if not loc.active)
    if inactive:
        raise ValidationFailed(
            f"Location {', '.join(inactive)} is inactive; restock the goods to an active location.",
            details={"location": [f"{code} is inactive." for code in inactive]})
    return found


def receive(number: str, entries: Sequence[Mapping], *, not_returned: Sequence[str] = (), actor: Actor,
            expected_version: int | None = None, now: datetime | None = None) -> Return:
    """Record what arrived: entries [{"sku", "qty", "disposition", "condition"?, "location"?}],
    and the SKUs whose remaining units will not come back. Partial receipts are fine;
    the first one moves the return to `received`."""
    now = now or utcnow()
    check_may_handle(actor.role)
    ret, order = load_for_change(number, expected_version)
    check_can_receive(ret.status)
    plan = plan_receipts(list(entries), list(not_returned), expected_lines(ret),
                         first_receipt=ret.status == ReturnStatus.APPROVED)
    locations = _locations({r.location for r in plan.receipts if r.location})
    lines = {line.id: line for line in ret.lines}
    restocked: dict[tuple[int, int], int] = {}
    recorded = []
    for planned in plan.receipts:
        line = lines[planned.line_id]
        location = locations.get(planned.location) if planned.location else None
        line.receipts.append(ReturnReceipt(qty=planned.qty, condition=planned.condition,
                                           disposition=planned.disposition,
                                           location_id=location.id if location else None, location=location,
                                           received_at=now, received_by=actor.display))
        line.line.qty_returned += planned.qty
        if location is not None:
            key = (line.line.product_id, location.id)
            restocked[key] = restocked.get(key, 0) + planned.qty
        recorded.append({"sku": line.line.sku, "qty": planned.qty, "condition": planned.condition,
                         "disposition": planned.disposition, "location": planned.location})
        if planned.disposition == Disposition.WRITE_OFF:
            record_event("return", ret.number, "return_written_off", actor=actor, at=now,
                         details={"sku": line.line.sku, "qty": planned.qty, "condition": planned.condition})
    # Levels are locked in (product, location) order, as every stock writer does.
    products = {line.line.product_id: line.line.product for line in ret.lines}
    by_id = {loc.id: loc for loc in locations.values()}
    for (product_id, location_id), qty in sorted(restocked.items()):
        level = lock_level(products[product_id], by_id[location_id], create=True)
        add_move(level, qty, MoveKind.RETURN_RESTOCK, actor=actor, at=now, reason=f"returned: {ret.reason}",
                 reference=ret.number, order_id=order.id, return_id=ret.id)
    marked = []
    for line_id in plan.mark_not_returned:
        lines[line_id].not_returned = True
        marked.append({"sku": lines[line_id].line.sku, "missing": lines[line_id].qty - lines[line_id].qty_received})
    record_event("return", ret.number, "goods_received", actor=actor, at=now,
                 details={"received": recorded, "not_returned": marked or None})
    if ret.status == ReturnStatus.APPROVED:
        set_status(ret, ReturnStatus.RECEIVED, actor=actor, at=now)
    else:
        touch(ret, now)
    db.session.flush()
    review.retry_stock_holds({product_id for product_id, _ in restocked}, actor=actor, at=now)
    db.session.commit()
    return ret
