"""Reading returns (RMAs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.return_states import ReturnStatus
from app.models import Return
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.queries.filters import ListFilters, choice_arg
from app.services.queries.loading import order_reference


@dataclass(frozen=True)
class ReturnFilters(ListFilters):
    status: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ReturnFilters:
        return cls(status=choice_arg(args, "status", ReturnStatus.values()))


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {"status": [(s.value, s.label) for s in ReturnStatus]}


@dataclass(frozen=True)
class ReturnRow:
    ret: Return

    @property
    def item_count(self) -> int:
        return sum(line.qty for line in self.ret.lines)


def list_returns(filters: ReturnFilters, *, cursor: str | None = None, limit: int | None = None) -> Page[ReturnRow]:
    """Returns, most recently requested first (numbers are handed out in that order)."""
    stmt = select(Return).options(order_reference(Return.order), selectinload(Return.lines))
    if filters.status:
        stmt = stmt.where(Return.status == filters.status)
    page = keyset_page(
        stmt, [Return.id], cursor=cursor, limit=clamp_limit(limit), key=lambda r: [r.id], descending=True
    )
    return Page(items=[ReturnRow(r) for r in page.items], next_cursor=page.next_cursor)
