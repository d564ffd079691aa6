"""Jinja filters and globals: money, local times, navigation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user

from app.domain.roles import SECTION_LABELS, sections_for


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time shown in the configured timezone."""
    if value is None:
        return "—"
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    return value.astimezone(tz).strftime(fmt)


def money(value: Decimal | None, currency: str | None = None) -> str:
    if value is None:
        return "—"
    text = f"{Decimal(value):,.2f}"
    return f"{text} {currency}" if currency else text


def age(value: datetime | None, now: datetime | None = None) -> str:
    """'3 h', '2 d': how long ago, compact enough for a card."""
    if value is None:
        return "—"
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    if seconds < 3600:
        return f"{max(seconds // 60, 0)} min"
    if seconds < 86400 * 2:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def register(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(money, "money")
    app.add_template_filter(age, "age")

    @app.context_processor
    def navigation():
        if not current_user.is_authenticated:
            return {"nav_sections": []}
        return {
            "nav_sections": [(s, SECTION_LABELS[s]) for s in sections_for(current_user.role)],
            "display_timezone": app.config["TIMEZONE"],
        }
