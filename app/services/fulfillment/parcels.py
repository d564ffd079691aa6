"""Combined parcels: ready orders of one customer to one address, at one location.

The pick queue suggests them (app.services.queries.fulfillment.parcel_suggestions).
Accepting starts a wave of just those orders whose shipments share a `parcel_group`:
they are packed as one box with one packing slip that lists each order, and ship
under one tracking number; each order keeps its own number, invoice and status.
Dismissing remembers the exact set of orders, so the same suggestion does not come
back (a new order of that customer makes a new suggestion).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from app.domain.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import ParcelDismissal, Wave
from app.models.base import utcnow
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.fulfillment.common import get_location
from app.services.fulfillment.waves import create_wave
from app.services.queries.fulfillment import parcel_key, parcel_suggestions
from app.services.tx import begin_write


def _current(location_code: str, numbers: Sequence[str]):
    location = get_location(location_code)
    wanted = tuple(sorted({n.strip().upper() for n in numbers if n and n.strip()}))
    if len(wanted) < 2:
        raise ValidationFailed("A combined parcel needs at least two orders.")
    for suggestion in parcel_suggestions(location):
        if suggestion.numbers == wanted:
            return location, suggestion
    raise Conflict(
        "That suggestion no longer applies (an order was picked, changed or the suggestion was "
        "dismissed). Reload the pick queue."
    )


def accept(location_code: str, numbers: Sequence[str], *, actor: Actor, now: datetime | None = None) -> Wave:
    """Pick and pack these orders together: a wave whose shipments form one parcel."""
    now = now or utcnow()
    begin_write()
    _, suggestion = _current(location_code, numbers)
    return create_wave(location_code, order_numbers=suggestion.numbers, combine_parcel=True, actor=actor, now=now)


def dismiss(location_code: str, numbers: Sequence[str], *, actor: Actor, now: datetime | None = None) -> None:
    """Ship these orders separately; do not suggest this combination again."""
    now = now or utcnow()
    session = begin_write()
    location, suggestion = _current(location_code, numbers)
    key = parcel_key(suggestion.numbers)
    exists = session.scalar(
        select(ParcelDismissal.id).where(ParcelDismissal.location_id == location.id, ParcelDismissal.orders_key == key)
    )
    if exists is None:
        session.add(
            ParcelDismissal(
                location_id=location.id,
                orders_key=key,
                order_numbers=list(suggestion.numbers),
                dismissed_by=actor.display,
                dismissed_at=now,
            )
        )
    for number in suggestion.numbers:
        record_event(
            "order",
            number,
            "parcel_suggestion_dismissed",
            actor=actor,
            at=now,
            details={"location": location.code, "orders": list(suggestion.numbers)},
        )
    db.session.commit()
