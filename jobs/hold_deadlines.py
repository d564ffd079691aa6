"""Stock and address holds: the address-problem message to the customer, and breaches at
the end of the business day escalated to managers (dedup keys address_problem:<order>:c<clock>,
hold_deadline:<order>:c<clock>:u<user>)."""

from __future__ import annotations

from datetime import datetime

from app.services import sla

NAME = "hold_deadlines"
INTERVAL_SECONDS = 60


def run(now: datetime) -> str:
    return sla.sweep_holds(now)
