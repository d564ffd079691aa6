"""Notifications: writing them (templates/notifications/<kind>.txt), queueing them in the
outbox once per dedup key, sending them, and sending one again on request.

Deciding to notify happens in the sweeps, inside their transaction; sending is the
outbox job. A send that fails is retried with a growing delay (status `failed`
between attempts) and given up after NOTIFY_MAX_ATTEMPTS (`dead`); the row is never
deleted, so a person can look at it and resend it. Sending is at least once: a
process that dies between handing a message to the mail server and recording it
sends that one message again on its next run.
"""

from __future__ import annotations

import smtplib
import ssl
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from flask import current_app
from jinja2 import Environment
from sqlalchemy import select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.domain.enums import NotificationKind, NotificationStatus
from app.domain.errors import Conflict, NotFound
from app.domain.roles import Role
from app.extensions import db
from app.models import Notification, Order, User
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.queries.filters import ListFilters
from app.services.sla_guard import SKIPPED, sweep_guard
from app.services.tx import begin_write
from app.templating import money

SEND_BATCH = 200
NOT_CONFIGURED = "not sending: SMTP is not configured (notifications stay pending)"
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
WAITING = (NotificationStatus.PENDING.value, NotificationStatus.FAILED.value)

Send = Callable[[str, str, str], None]  # (recipient, subject, body)
Transport = Callable[[], AbstractContextManager[Send]]


# Writing ---------------------------------------------------------------------------


def render(kind: NotificationKind | str, **context) -> tuple[str, str]:
    """(subject, body) from templates/notifications/<kind>.txt: the first line is the
    subject, the rest (after a blank line) the body. Plain text: nothing is escaped.

    Templates get `when(t)` (a time in the business timezone), `timezone` and `seller`
    besides what the caller passes; sweeps render thousands, so this stays lean."""
    template = _templates().get_template(f"notifications/{NotificationKind(kind).value}.txt")
    text = template.render(**_template_helpers(), **context)
    subject, _, body = text.lstrip("\n").partition("\n")
    return subject.strip()[:200], body.strip("\n") + "\n"


def _templates() -> Environment:
    """A plain-text Jinja environment over the app's templates, with only what messages use.

    Not the app's own environment: a sweep renders thousands of messages, and every render
    there would carry the web pages' globals (request, session, url_for, …) into its context."""
    env = current_app.extensions.get("orderdeck_notification_templates")
    if env is None:
        # Plain-text e-mail: HTML escaping would print &amp; and &#39; to the customer.
        env = Environment(loader=current_app.jinja_loader, autoescape=False, keep_trailing_newline=True)  # noqa: S701
        env.filters["money"] = money
        current_app.extensions["orderdeck_notification_templates"] = env
    return env


def _template_helpers() -> dict:
    config = current_app.config
    zone = ZoneInfo(config["TIMEZONE"])

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"

    return {"when": when, "timezone": config["TIMEZONE"], "seller": config["SELLER_NAME"]}


@dataclass(frozen=True)
class Recipient:
    user_id: int | None
    email: str


def escalation_recipients() -> list[Recipient]:
    """Who hears about warnings and breaches: every active manager (admins when there are none)."""
    for role in (Role.MANAGER, Role.ADMIN):
        people = db.session.execute(
            select(User.id, User.email).where(User.role == role, User.active.is_(True)).order_by(User.id)
        ).all()
        if people:
            return [Recipient(user_id, email) for user_id, email in people]
    return []


def enqueue_many(rows: list[dict], *, at: datetime) -> set[str]:
    """Queue notifications (dicts with kind, dedup_key, recipient, subject, body, order_id)
    unless their dedup key exists. Returns the keys that were new. Caller's transaction.

    One statement executed for many rows (SQLAlchemy batches them into multi-row INSERTs
    and keeps its compiled form cached); ON CONFLICT DO NOTHING makes a key that another
    run already queued a no-op, and RETURNING names the rows that were really added."""
    if not rows:
        return set()
    if db.session.get_bind().dialect.name == "postgresql":
        return _enqueue_many_postgresql(rows, at)
    stmt = (sqlite_insert(Notification.__table__).on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(Notification.__table__.c.dedup_key))
    params = [{"order_id": None, **row, "status": NotificationStatus.PENDING.value, "attempts": 0,
               "created_at": at, "next_attempt_at": at} for row in rows]
    return set(db.session.connection().execute(stmt, params).scalars())


# One INSERT … SELECT FROM unnest(arrays): a handful of parameters however many rows, where
# a multi-row VALUES list would make the driver parse thousands of placeholders.
_PG_ENQUEUE = text("""
    INSERT INTO notifications (kind, order_id, recipient, dedup_key, subject, body, status, attempts,
                               created_at, next_attempt_at)
    SELECT kind, order_id, recipient, dedup_key, subject, body, 'pending', 0, :at, :at
    FROM unnest(CAST(:kinds AS text[]), CAST(:order_ids AS bigint[]), CAST(:recipients AS text[]),
                CAST(:keys AS text[]), CAST(:subjects AS text[]), CAST(:bodies AS text[]))
         AS queued(kind, order_id, recipient, dedup_key, subject, body)
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING dedup_key
""")


def _enqueue_many_postgresql(rows: list[dict], at: datetime) -> set[str]:
    columns = {name: [row.get(field) for row in rows] for name, field in (
        ("kinds", "kind"), ("order_ids", "order_id"), ("recipients", "recipient"), ("keys", "dedup_key"),
        ("subjects", "subject"), ("bodies", "body"))}
    return set(db.session.execute(_PG_ENQUEUE, {"at": at, **columns}).scalars())


# Sending ---------------------------------------------------------------------------


@contextmanager
def smtp_connection(config: dict) -> Iterator[Send]:
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])

        def send(recipient: str, subject: str, body: str) -> None:
            message = EmailMessage()
            message["From"] = config["SMTP_FROM"]
            message["To"] = recipient
            message["Subject"] = subject
            message.set_content(body)
            smtp.send_message(message)

        yield send


def configured_transport() -> Transport | None:
    config = dict(current_app.config)
    if not config.get("SMTP_HOST"):
        return None
    return lambda: smtp_connection(config)


def retry_delay(attempts: int) -> timedelta:
    """1 min after the first failure, then doubling, at most 6 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def send_due(now: datetime, *, transport: Transport | None = None) -> str:
    """Send what is waiting and due (pending, or failed and past its retry time)."""
    transport = transport or configured_transport()
    if transport is None:
        return NOT_CONFIGURED
    with sweep_guard("outbox") as mine:
        if not mine:
            return SKIPPED
        max_attempts = current_app.config["NOTIFY_MAX_ATTEMPTS"]
        outcomes: Counter = Counter()

        def record(row, error: str | None) -> None:
            outcomes[_record_attempt(row, error, now, max_attempts)] += 1

        while True:
            due = db.session.execute(
                select(Notification.id, Notification.recipient, Notification.subject, Notification.body,
                       Notification.attempts)
                .where(Notification.status.in_(WAITING), Notification.next_attempt_at <= now)
                .order_by(Notification.next_attempt_at, Notification.id).limit(SEND_BATCH)
            ).all()
            db.session.rollback()  # no transaction stays open while we talk to the mail server
            if not due:
                break
            _deliver(due, transport, record)
            if len(due) < SEND_BATCH:
                break
    sent, failed, dead = (outcomes[s] for s in (NotificationStatus.SENT, NotificationStatus.FAILED,
                                                 NotificationStatus.DEAD))
    return f"sent {sent}, failed {failed}, dead {dead}"


def _deliver(rows, transport: Transport, record: Callable[[object, str | None], None]) -> None:
    """Hand each row to the mail server and record how it went, one row at a time (so a
    crash resends at most one message). A connection that cannot be opened, or breaks,
    fails every row not tried yet."""
    tried: set[int] = set()
    try:
        with transport() as send:
            for row in rows:
                try:
                    send(row.recipient, row.subject, row.body)
                except (smtplib.SMTPException, OSError) as exc:
                    error = _describe(exc)
                else:
                    error = None
                tried.add(row.id)
                record(row, error)
    except (smtplib.SMTPException, OSError) as exc:
        for row in rows:
            if row.id not in tried:
                record(row, _describe(exc))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _record_attempt(row, error: str | None, now: datetime, max_attempts: int) -> str:
    attempts = row.attempts + 1
    if error is None:
        values = {"status": NotificationStatus.SENT.value, "sent_at": now, "last_error": None,
                  "attempts": attempts, "next_attempt_at": None}
    elif attempts >= max_attempts:
        values = {"status": NotificationStatus.DEAD.value, "last_error": error, "attempts": attempts,
                  "next_attempt_at": None}
    else:
        values = {"status": NotificationStatus.FAILED.value, "last_error": error, "attempts": attempts,
                  "next_attempt_at": now + retry_delay(attempts)}
    session = begin_write()
    session.execute(
        update(Notification)
        .where(Notification.id == row.id, Notification.status.in_(WAITING), Notification.attempts == row.attempts)
        .values(**values).execution_options(synchronize_session=False)
    )
    session.commit()
    return values["status"]


# Sending again -----------------------------------------------------------------------


def resend(notification_id: int, *, actor: Actor, now: datetime) -> Notification:
    """Queue a sent, failed or dead notification again: same row, same dedup key."""
    session = begin_write()
    notification = session.scalar(select(Notification).where(Notification.id == notification_id).with_for_update())
    if notification is None:
        raise NotFound(f"There is no notification {notification_id}.")
    if notification.status == NotificationStatus.PENDING:
        raise Conflict(f"{notification.dedup_key} is already waiting to be sent.")
    before = notification.status
    record_event("notification", notification.id, "notification_resent", actor=actor, before=before,
                 after=NotificationStatus.PENDING, at=now,
                 details={"dedup_key": notification.dedup_key, "attempts": notification.attempts,
                          "sent_at": notification.sent_at.isoformat() if notification.sent_at else None,
                          "last_error": notification.last_error})
    notification.status = NotificationStatus.PENDING
    notification.attempts = 0
    notification.next_attempt_at = now
    notification.last_error = None
    notification.sent_at = None
    session.commit()
    return notification


# Reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationFilters(ListFilters):
    order: str | None = None
    status: str | None = None
    kind: str | None = None


def list_notifications(filters: NotificationFilters, *, cursor: str | None = None,
                       limit: int | None = None) -> Page[Notification]:
    """Newest first. An unknown order number lists nothing (not everything)."""
    stmt = select(Notification)
    if filters.order:
        order_id = db.session.scalar(select(Order.id).where(Order.number == filters.order.strip().upper()))
        stmt = stmt.where(Notification.order_id == (order_id if order_id is not None else -1))
    if filters.status:
        stmt = stmt.where(Notification.status == filters.status)
    if filters.kind:
        stmt = stmt.where(Notification.kind == filters.kind)
    page = keyset_page(stmt, [Notification.id], cursor=cursor, limit=clamp_limit(limit),
                       key=lambda n: [n.id], descending=True)
    numbers = _order_numbers({n.order_id for n in page.items if n.order_id is not None})
    for n in page.items:
        n.order_number = numbers.get(n.order_id)
    return page


def _order_numbers(order_ids: set[int]) -> dict[int, str]:
    if not order_ids:
        return {}
    return dict(db.session.execute(select(Order.id, Order.number).where(Order.id.in_(order_ids))).all())


def notification_dict(n: Notification) -> dict:
    """The DESIGN.md §6 shape, plus what the outbox page shows."""
    return {"kind": n.kind, "order": getattr(n, "order_number", None), "dedup_key": n.dedup_key,
            "status": n.status, "created_at": n.created_at, "sent_at": n.sent_at, "recipient": n.recipient,
            "attempts": n.attempts, "next_attempt_at": n.next_attempt_at, "last_error": n.last_error}
