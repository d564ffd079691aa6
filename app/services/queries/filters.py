"""Turning query-string values into the filters a list understands.

Unknown choices are dropped rather than matched literally: a stale bookmark
with a status that no longer exists shows the unfiltered list, not an empty one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields

from sqlalchemy import ColumnElement


def text_arg(args: Mapping[str, str], name: str, max_length: int = 100) -> str | None:
    value = (args.get(name) or "").strip()
    return value[:max_length] or None


def choice_arg(args: Mapping[str, str], name: str, allowed: Iterable[str]) -> str | None:
    value = text_arg(args, name)
    return value if value in set(allowed) else None


def contains(column, needle: str) -> ColumnElement[bool]:
    """Case-insensitive substring match; % and _ typed by a user match themselves."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


class ListFilters:
    """Mixin for the frozen dataclasses that describe a list's filters."""

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (empty ones left out), for links to
        further pages of the same list."""
        return {f.name: str(value) for f in fields(self) if (value := getattr(self, f.name)) not in (None, "")}

    @property
    def any(self) -> bool:
        return bool(self.as_args())
