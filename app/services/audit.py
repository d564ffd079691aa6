"""Writing the audit log. Called inside the service's transaction, never committed alone."""

from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.models import Event
from app.models.base import utcnow
from app.services.actors import Actor


def record_event(
    entity_type: str,
    entity_id: str | int,
    action: str,
    *,
    actor: Actor,
    before: str | None = None,
    after: str | None = None,
    details: dict | None = None,
    at: datetime | None = None,
) -> Event:
    event = Event(
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        from_state=before,
        to_state=after,
        user_id=actor.user_id,
        actor=actor.label,
        details=details or None,
        created_at=at or utcnow(),
    )
    db.session.add(event)
    return event
