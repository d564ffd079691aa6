"""Choices for filter drop-downs: channels and locations, by code."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, Location


def channel_choices() -> list[tuple[str, str]]:
    return [
        (code, name) for code, name in db.session.execute(select(Channel.code, Channel.name).order_by(Channel.code))
    ]


def location_choices() -> list[tuple[str, str]]:
    return [
        (code, name) for code, name in db.session.execute(select(Location.code, Location.name).order_by(Location.code))
    ]
