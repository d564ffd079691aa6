from datetime import UTC, datetime

from sqlalchemy import func, select

from app.models import Notification
from app.services import outbox
from app.services.tx import begin_write

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_same_dedup_key_is_enqueued_once(app, db):
    begin_write()
    first = outbox.enqueue("payment_reminder_1", dedup_key="payment_reminder:1:SO-000001", recipient="a@example.com",
                           subject="Reminder", body="Please pay", at=NOW)
    again = outbox.enqueue("payment_reminder_1", dedup_key="payment_reminder:1:SO-000001", recipient="a@example.com",
                           subject="Reminder", body="Please pay", at=NOW)
    db.session.commit()
    assert (first, again) == (True, False)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
