"""Keyset (cursor) pagination: every list is {"items": [...], "next_cursor": …}.

OFFSET gets slower the deeper you page (the database walks every skipped row);
a cursor holding the last row's sort key keeps every page as cheap as the first.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.exc import DBAPIError, StatementError

from app.domain.errors import ValidationFailed
from app.extensions import db

T = TypeVar("T")
MAX_LIMIT = 200


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    def plain(v):
        if isinstance(v, datetime):
            return {"dt": v.isoformat()}
        if isinstance(v, Decimal):
            return {"dec": str(v)}
        return v

    raw = json.dumps([plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    def typed(v):
        if isinstance(v, dict) and "dt" in v:
            return datetime.fromisoformat(v["dt"])
        if isinstance(v, dict) and "dec" in v:
            return Decimal(v["dec"])
        return v

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError
        return [typed(v) for v in values]
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("The cursor is not valid; start again from the first page.",
                               details={"cursor": cursor}) from exc


def clamp_limit(limit: int | None, default: int = 50) -> int:
    if limit is None:
        return default
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}.", details={"limit": limit})
    return limit


def keyset_page(stmt: Select, order_by: list, *, cursor: str | None, limit: int, key, descending: bool = False) -> Page:
    """Page through `stmt` ordered ascending by the columns `order_by` (the last one unique).

    `key(row)` returns the row's values for those columns, to build the next cursor.
    `descending=True` walks every column from the highest value down (newest first);
    an index on the same columns serves it as well, read backwards.
    """
    if cursor:
        values = _decode(cursor)
        if len(values) != len(order_by):
            raise ValidationFailed("The cursor does not belong to this list.", details={"cursor": cursor})
        after = tuple_(*order_by) < tuple_(*values) if descending else tuple_(*order_by) > tuple_(*values)
        stmt = stmt.where(after)
    ordering = [column.desc() for column in order_by] if descending else order_by
    try:
        rows = list(db.session.scalars(stmt.order_by(*ordering).limit(limit + 1)))
    except (DBAPIError, StatementError) as exc:
        # A cursor from another list decodes fine but compares a date with a name, say.
        db.session.rollback()
        raise ValidationFailed("The cursor does not belong to this list.", details={"cursor": cursor}) from exc
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=_encode(list(key(rows[-1]))) if has_more and rows else None)
