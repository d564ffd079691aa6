"""Payment reminders 1 and 2 to customers of unpaid orders (dedup key payment_reminder:<n>:<order>)."""

from __future__ import annotations

from datetime import datetime

from app.services import sla

NAME = "payment_reminders"
INTERVAL_SECONDS = 60


def run(now: datetime) -> str:
    return sla.send_payment_reminders(now)
