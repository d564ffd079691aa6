"""From CSV rows to intake bodies: the rows of one external_id become one order, checked
by the API's own schema (app.api.schemas.OrderCreateSchema), so a CSV order is valid
exactly when the same order sent to POST /api/v1/orders would be.

Order-level columns are repeated on every row of an order. A later row may leave one
empty (some exports only fill the first row of an order); two different values are an
error on the later row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import marshmallow as ma

from app.api.schemas import MoneyInput, OrderCreateSchema
from app.services.order_import.csvfile import MONEY_COLUMNS, ORDER_COLUMNS, CsvRow
from app.services.order_import.summary import RowError

# Where each field of the intake body comes from in the CSV.
BODY_COLUMNS = {
    ("external_id",): "external_id", ("placed_at",): "placed_at",
    ("customer", "name"): "customer_name", ("customer", "email"): "customer_email",
    ("ship_to", "name"): "ship_name", ("ship_to", "line1"): "line1", ("ship_to", "line2"): "line2",
    ("ship_to", "city"): "city", ("ship_to", "region"): "region", ("ship_to", "postcode"): "postcode",
    ("ship_to", "country"): "country", ("shipping_price",): "shipping_price", ("currency",): "currency",
}
PLACED_AT_HINT = "Use an ISO 8601 time such as 2026-03-02T10:30:00+01:00."
_INTEGER = re.compile(r"^[+-]?\d+$")


class PaidAmountSchema(ma.Schema):
    """paid_amount is not part of the API's intake body (payments have their own
    endpoint); in a CSV it is what the channel already collected."""

    paid_amount = MoneyInput(load_default=None, allow_none=True)


@dataclass
class Draft:
    """One order of the file: its rows, and either a valid intake body or errors."""

    external_id: str
    lines: list[int]  # the CSV line of each row, in file order (one order line per row)
    errors: list[RowError] = field(default_factory=list)
    body: dict | None = None
    sources: dict[str, int] = field(default_factory=dict)  # order-level column -> line it was read from

    @property
    def first_line(self) -> int:
        return self.lines[0]

    def reject(self, column: str | None, message: str, line: int | None = None) -> None:
        self.errors.append(RowError(line or self.first_line, column, message, self.external_id or None))
        self.body = None


def group_rows(rows: Iterable[CsvRow]) -> dict[str, list[CsvRow]]:
    """The rows of each order, in the order the first row appears; rows without an
    external_id stand alone."""
    groups: dict[str, list[CsvRow]] = {}
    for row in rows:
        groups.setdefault(row["external_id"] or f"\0{row.line}", []).append(row)
    return groups


def assemble(rows: list[CsvRow], channel_code: str, *, timezone: str,
             progress: Callable[[int], None] | None = None) -> list[Draft]:
    """Group the rows into orders and validate each; every draft ends with a body or errors."""
    schema, paid_schema, zone = OrderCreateSchema(), PaidAmountSchema(), ZoneInfo(timezone)
    drafts, done = [], 0
    # Only the line numbers outlive this loop: a big file's rows are not kept twice.
    for i, group in enumerate(group_rows(rows).values(), start=1):
        draft = Draft(group[0]["external_id"], [row.line for row in group])
        _build(draft, group, channel_code, schema, paid_schema, zone)
        drafts.append(draft)
        done += len(group)
        if progress is not None and i % 1000 == 0:
            progress(done)
    if progress is not None:
        progress(done)
    return drafts


def _build(draft: Draft, rows: list[CsvRow], channel_code: str, schema: OrderCreateSchema,
           paid_schema: PaidAmountSchema, zone: ZoneInfo) -> None:
    values = _order_values(draft, rows)

    def given(column: str, key: str | None = None) -> dict:
        """A required field: left out when empty, so the schema says it is missing."""
        return {key or column: values[column]} if values[column] else {}

    body = {
        "channel": channel_code,
        **({"external_id": draft.external_id} if draft.external_id else {}),
        "placed_at": _aware_iso(values["placed_at"], zone) if values["placed_at"] else None,
        "customer": {**given("customer_name", "name"), **given("customer_email", "email")},
        "ship_to": {
            **given("ship_name", "name"), **given("line1"), "line2": values["line2"] or None,
            **given("city"), "region": values["region"] or None, **given("postcode"), **given("country"),
        },
        "lines": [_line(row) for row in rows],
        "shipping_price": values["shipping_price"] or None,
        "currency": values["currency"] or None,
    }
    try:
        data = schema.load(body)
    except ma.ValidationError as exc:
        for path, message in _flatten(exc.messages):
            line, column = _locate(draft, path)
            if column == "placed_at":
                message = f"{message} {PLACED_AT_HINT}"
            draft.reject(column, message, line)
    try:
        paid = paid_schema.load({"paid_amount": values["paid_amount"] or None})["paid_amount"]
    except ma.ValidationError as exc:
        for message in exc.messages_dict.get("paid_amount", []):
            draft.reject("paid_amount", message, draft.sources.get("paid_amount"))
    if draft.errors:
        return
    if paid:  # a zero payment is no payment (create_order records none either)
        data["paid_amount"] = paid
    draft.body = data


def _order_values(draft: Draft, rows: list[CsvRow]) -> dict[str, str]:
    """Each order-level column's value: the first non-empty one; a different non-empty
    value on a later row is an error there."""
    first = rows[0]
    values = {column: first[column] for column in ORDER_COLUMNS}
    draft.sources = {column: first.line for column in ORDER_COLUMNS}
    for row in rows[1:]:
        for column in ORDER_COLUMNS:
            value = row[column]
            if not value:
                continue
            if not values[column]:
                values[column], draft.sources[column] = value, row.line
            elif not _same(column, values[column], value):
                draft.reject(column, f"“{value}” here but “{values[column]}” on line {draft.sources[column]} "
                                     f"of the same order ({column} must be the same on every row of an order).",
                             row.line)
    return values


def _same(column: str, a: str, b: str) -> bool:
    if a == b:
        return True
    if column == "customer_email":
        return a.lower() == b.lower()
    if column in MONEY_COLUMNS:
        try:
            return Decimal(a) == Decimal(b)
        except InvalidOperation:
            return False
    return False


def _line(row: CsvRow) -> dict:
    line: dict[str, object] = {}
    if row["sku"]:
        line["sku"] = row["sku"]
    qty = row["qty"]
    if qty:
        # The schema wants a JSON integer; a CSV only has text. Anything else goes to the
        # schema as it is, for the schema's own message.
        line["qty"] = int(qty) if _INTEGER.match(qty) else qty
    if row["unit_price"]:
        line["unit_price"] = row["unit_price"]
    return line


def _aware_iso(value: str, zone: ZoneInfo) -> str:
    """A time without an offset is local time of the business (config TIMEZONE), as
    spreadsheets write it; other text goes to the schema unchanged for its message."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def _flatten(messages, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, (*path, key))
    elif isinstance(messages, list):
        for message in messages:
            if isinstance(message, (dict, list)):
                yield from _flatten(message, path)
            else:
                yield path, str(message)
    else:
        yield path, str(messages)


def _locate(draft: Draft, path: tuple) -> tuple[int, str | None]:
    """The CSV line and column an error of the intake body belongs to."""
    if path and path[0] == "lines":
        if len(path) >= 3 and isinstance(path[1], int) and path[1] < len(draft.lines):
            return draft.lines[path[1]], str(path[2])
        return draft.first_line, "sku"
    column = BODY_COLUMNS.get(tuple(path[:2])) or BODY_COLUMNS.get(tuple(path[:1]))
    if column is None:
        return draft.first_line, str(path[0]) if path else None
    return draft.sources.get(column, draft.first_line), column
