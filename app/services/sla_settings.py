"""Admin settings the SLA engine reads: a channel's SLA policy and a location's business
calendar (timezone, working days, cut-off, holidays).

Deadlines are computed when a clock starts and stored, so a change applies to clocks
that start afterwards; running clocks keep the deadline they were given.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date

from sqlalchemy import select

from app.domain.calendar import CalendarError, normalise_working_days, valid_timezone
from app.domain.errors import Conflict, NotFound, ValidationFailed
from app.domain.sla import SlaPolicy
from app.models import Channel, Location, LocationHoliday
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.clocks import policy_of
from app.services.tx import begin_write

CUTOFF_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _channel_for_update(code: str) -> Channel:
    channel = begin_write().scalar(select(Channel).where(Channel.code == code).with_for_update())
    if channel is None:
        raise NotFound(f"There is no sales channel with code {code}.")
    return channel


def _location_for_update(code: str) -> Location:
    location = begin_write().scalar(select(Location).where(Location.code == code).with_for_update())
    if location is None:
        raise NotFound(f"There is no location with code {code}.")
    return location


def update_channel_policy(code: str, policy: SlaPolicy, *, actor: Actor) -> Channel:
    problems = policy.problems()
    if problems:
        raise ValidationFailed("These SLA settings cannot work together.", details=problems)
    channel = _channel_for_update(code)
    before = asdict(policy_of(channel))
    after = asdict(policy)
    changed = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    for name, value in after.items():
        setattr(channel, name, value)
    if changed:
        record_event("channel", channel.code, "sla_policy_changed", actor=actor, details=changed)
    begin_write().commit()
    return channel


def update_calendar(code: str, *, timezone: str, working_days: list[int | str], cutoff_time: str,
                    actor: Actor) -> Location:
    errors = {}
    timezone = (timezone or "").strip()
    if not valid_timezone(timezone):
        errors["timezone"] = f"Unknown timezone “{timezone}” (use an IANA name such as Europe/Berlin)."
    try:
        days = normalise_working_days(working_days)
    except CalendarError as exc:
        errors["working_days"] = str(exc)
    if not CUTOFF_RE.match(cutoff_time or ""):
        errors["cutoff_time"] = "Use HH:MM, for example 16:00."
    if errors:
        raise ValidationFailed("The calendar is not valid.", details=errors)
    location = _location_for_update(code)
    before = {"timezone": location.timezone, "working_days": location.working_days, "cutoff_time": location.cutoff_time}
    after = {"timezone": timezone, "working_days": days, "cutoff_time": cutoff_time}
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    location.timezone, location.working_days, location.cutoff_time = timezone, days, cutoff_time
    if changed:
        record_event("location", location.code, "calendar_changed", actor=actor, details=changed)
    begin_write().commit()
    return location


def add_holiday(code: str, day: date, name: str, *, actor: Actor) -> LocationHoliday:
    location = _location_for_update(code)
    session = begin_write()
    if session.scalar(select(LocationHoliday.id).where(LocationHoliday.location_id == location.id,
                                                       LocationHoliday.day == day)):
        raise Conflict(f"{day} is already a holiday at {location.code}.", details={"day": str(day)})
    holiday = LocationHoliday(location_id=location.id, day=day, name=(name or "").strip()[:120])
    session.add(holiday)
    record_event("location", location.code, "holiday_added", actor=actor,
                 details={"day": day.isoformat(), "name": holiday.name})
    session.commit()
    return holiday


def remove_holiday(code: str, day: date, *, actor: Actor) -> None:
    location = _location_for_update(code)
    session = begin_write()
    holiday = session.scalar(select(LocationHoliday).where(LocationHoliday.location_id == location.id,
                                                           LocationHoliday.day == day))
    if holiday is None:
        raise NotFound(f"{day} is not a holiday at {location.code}.")
    record_event("location", location.code, "holiday_removed", actor=actor,
                 details={"day": day.isoformat(), "name": holiday.name})
    session.delete(holiday)
    session.commit()
