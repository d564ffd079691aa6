"""Reading issued documents: invoices and credit notes, one list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.domain.enums import DocumentKind
from app.domain.errors import NotFound
from app.extensions import db
from app.models import Channel, Invoice, Order
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.queries.catalog import channel_choices
from app.services.queries.filters import ListFilters, choice_arg, text_arg
from app.services.queries.loading import order_reference


def date_arg(args: Mapping[str, str], name: str, problems: list[str]) -> date | None:
    raw = text_arg(args, name, 20)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"“{raw}” is not a date (use YYYY-MM-DD); the {name} date was left out.")
        return None


@dataclass(frozen=True)
class DocumentFilters(ListFilters):
    kind: str | None = None
    channel: str | None = None
    date_from: date | None = None  # inclusive, a day in the display timezone
    date_to: date | None = None  # inclusive
    problems: tuple[str, ...] = field(default=())

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> DocumentFilters:
        problems: list[str] = []
        return cls(
            kind=choice_arg(args, "kind", DocumentKind.values()),
            channel=text_arg(args, "channel", 32),
            date_from=date_arg(args, "from", problems),
            date_to=date_arg(args, "to", problems),
            problems=tuple(problems),
        )

    def as_args(self) -> dict[str, str]:
        args = {"kind": self.kind, "channel": self.channel, "from": self.date_from, "to": self.date_to}
        return {name: str(value) for name, value in args.items() if value is not None}


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {"kind": [(k.value, k.label) for k in DocumentKind], "channel": channel_choices()}


def list_documents(
    filters: DocumentFilters, *, tz: tzinfo, cursor: str | None = None, limit: int | None = None
) -> Page[Invoice]:
    """Documents, most recently issued first. The period's days are days in `tz`."""
    stmt = select(Invoice).options(order_reference(Invoice.order), joinedload(Invoice.corrects))
    if filters.kind:
        stmt = stmt.where(Invoice.kind == filters.kind)
    if filters.channel:
        channel_ids = select(Channel.id).where(Channel.code == filters.channel)
        stmt = stmt.where(Invoice.order_id.in_(select(Order.id).where(Order.channel_id.in_(channel_ids))))
    if filters.date_from:
        stmt = stmt.where(Invoice.issued_at >= datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        day_after = filters.date_to + timedelta(days=1)
        stmt = stmt.where(Invoice.issued_at < datetime.combine(day_after, time.min, tzinfo=tz))
    return keyset_page(
        stmt,
        [Invoice.issued_at, Invoice.id],
        cursor=cursor,
        limit=clamp_limit(limit),
        key=lambda d: [d.issued_at, d.id],
        descending=True,
    )


def list_for_api(
    *, order: str | None = None, kind: str | None = None, cursor: str | None = None, limit: int | None = None
) -> Page[Invoice]:
    """Documents in issue order (oldest first), so a client polling with the cursor sees new ones at the end."""
    stmt = select(Invoice).options(order_reference(Invoice.order), joinedload(Invoice.corrects))
    if order:
        stmt = stmt.where(Invoice.order_id.in_(select(Order.id).where(Order.number == order.strip().upper())))
    if kind:
        stmt = stmt.where(Invoice.kind == kind)
    return keyset_page(stmt, [Invoice.id], cursor=cursor, limit=clamp_limit(limit), key=lambda d: [d.id])


def document_dict(doc: Invoice) -> dict:
    """The API shape of an invoice or credit note (DESIGN.md §6)."""
    body = {
        "number": doc.number,
        "kind": doc.kind,
        "order": doc.order.number,
        "issued_at": doc.issued_at,
        "total": doc.total,
        "currency": doc.currency,
        "net_total": doc.net_total,
        "tax_total": doc.tax_total,
        "shipment": (doc.snapshot or {}).get("shipment"),
    }
    if doc.corrects_id:
        body["corrects"] = doc.corrects.number
    return body


def get_document(number: str) -> Invoice:
    doc = db.session.scalar(
        select(Invoice).where(Invoice.number == number).options(joinedload(Invoice.order), joinedload(Invoice.corrects))
    )
    if doc is None:
        raise NotFound(f"There is no invoice or credit note {number}.")
    return doc


def credit_notes_of(invoice: Invoice) -> list[Invoice]:
    return list(db.session.scalars(select(Invoice).where(Invoice.corrects_id == invoice.id).order_by(Invoice.id)))
