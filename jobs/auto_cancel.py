"""Breach payment clocks at their deadline and cancel unpaid orders of channels that
auto-cancel (dedup key auto_cancelled:<order>)."""

from __future__ import annotations

from datetime import datetime

from app.services import sla

NAME = "auto_cancel"
INTERVAL_SECONDS = 60


def run(now: datetime) -> str:
    return sla.cancel_unpaid_orders(now)
