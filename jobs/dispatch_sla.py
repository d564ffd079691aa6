"""Dispatch warnings and breaches, escalated to every active manager
(dedup keys dispatch_warning:<order>:u<user>, dispatch_breach:<order>:u<user>)."""

from __future__ import annotations

from datetime import datetime

from app.services import sla

NAME = "dispatch_sla"
INTERVAL_SECONDS = 60


def run(now: datetime) -> str:
    return sla.sweep_dispatch(now)
