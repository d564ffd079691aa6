"""What the SLA chip macro (templates/_components/sla_chip.html) needs: a clock's view as
of now, and the clock that matters most for an order card."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import and_, or_, select

from app.domain.enums import ClockState
from app.domain.sla import chip_view
from app.extensions import db
from app.models import SlaClock
from app.models.base import utcnow

TONE_CLASSES = {"ok": "badge-ok", "warn": "badge-warn", "bad": "badge-bad", "done": "badge-ok", "off": ""}
FIELDS = ("kind", "state", "warn_at", "due_at", "warned_at", "met_at")


def _read(clock, name: str):
    return clock.get(name) if isinstance(clock, Mapping) else getattr(clock, name, None)


def sla_chip_context(clock, now: datetime | None = None) -> dict:
    """The chip of a clock (an SlaClock or a dict with kind, state, due_at and optionally
    warn_at, warned_at, met_at, as the order API returns them)."""
    values = {name: _read(clock, name) for name in FIELDS}
    view = chip_view(state=values["state"], warn_at=values["warn_at"], due_at=values["due_at"],
                     now=now or utcnow(), met_at=values["met_at"], warned_at=values["warned_at"])
    return {**values, "tone": view.tone, "text": view.text, "css": TONE_CLASSES[view.tone],
            "kind_label": str(values["kind"]).replace("_", " ")}


def pressing_clocks(order_ids) -> dict[int, SlaClock]:
    """Order id -> its most pressing clock (an unresolved breach, else the running clock
    due soonest), for a whole page of orders in one query (index on order_id)."""
    ids = {i for i in order_ids if i is not None}
    if not ids:
        return {}
    found: dict[int, SlaClock] = {}
    for clock in db.session.scalars(
        select(SlaClock).where(
            SlaClock.order_id.in_(ids),
            or_(SlaClock.state == ClockState.RUNNING,
                and_(SlaClock.state == ClockState.BREACHED, SlaClock.met_at.is_(None),
                     SlaClock.stopped_at.is_(None))),
        ).order_by(SlaClock.due_at, SlaClock.id)
    ):
        found.setdefault(clock.order_id, clock)
    return found


def sla_clock_for(order) -> SlaClock | None:
    """One order's most pressing clock (the order page; a board should use pressing_clocks)."""
    if order is None or getattr(order, "id", None) is None:
        return None
    return pressing_clocks([order.id]).get(order.id)
