"""Next values for readable numbers and gapless document series."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.domain.numbering import format_document_number, format_number
from app.extensions import db

# PostgreSQL sequences (created by the initial migration) hand out order,
# shipment, return and wave numbers without serialising concurrent intakes;
# gaps there are harmless. SQLite already serialises writers, so a counter row
# does the same job. Documents never use sequences: their series must be gapless.
SEQUENCES = {"order": "seq_order_number", "shipment": "seq_shipment_number",
             "return": "seq_return_number", "wave": "seq_wave_number"}


def _bump_counter(name: str) -> int:
    session = db.session
    value = session.execute(
        text("UPDATE counters SET value = value + 1 WHERE name = :name RETURNING value"), {"name": name}
    ).scalar()
    if value is None:
        # First use of this counter. A concurrent first use collides on the
        # primary key; the savepoint lets us retry the UPDATE instead.
        try:
            with session.begin_nested():
                session.execute(text("INSERT INTO counters (name, value) VALUES (:name, 1)"), {"name": name})
            return 1
        except IntegrityError:  # another transaction created it first
            value = session.execute(
                text("UPDATE counters SET value = value + 1 WHERE name = :name RETURNING value"),
                {"name": name},
            ).scalar_one()
    return int(value)


def next_number(kind: str) -> str:
    """SO-000123, SH-…, RMA-…, W-…; call inside a write transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        value = db.session.execute(text(f"SELECT nextval('{SEQUENCES[kind]}')")).scalar_one()
    else:
        value = _bump_counter(kind)
    return format_number(kind, int(value))


def next_document_number(kind: str, year: int) -> str:
    """INV-2026-000001: the counter row stays locked until the issuing transaction ends,
    so concurrent issuers queue up and a rollback leaves no gap."""
    return format_document_number(kind, year, _bump_counter(f"{kind}:{year}"))
