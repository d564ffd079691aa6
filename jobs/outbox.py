"""Send queued notifications: SMTP when configured, retried with backoff; otherwise they
stay pending in the outbox."""

from __future__ import annotations

from datetime import datetime

from app.services import notifications

NAME = "outbox"
INTERVAL_SECONDS = 30


def run(now: datetime) -> str:
    return notifications.send_due(now)
