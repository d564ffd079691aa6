"""Readable identifiers (DESIGN.md §3): SO-000123, INV-2026-000001, …"""

from __future__ import annotations

PREFIXES = {
    "order": "SO",
    "return": "RMA",
    "shipment": "SH",
    "wave": "W",
}

DOCUMENT_PREFIXES = {"invoice": "INV", "credit_note": "CN"}


def format_number(kind: str, value: int) -> str:
    return f"{PREFIXES[kind]}-{value:06d}"


def format_document_number(kind: str, year: int, value: int) -> str:
    """Invoice and credit-note numbers restart at 1 every year, per series."""
    return f"{DOCUMENT_PREFIXES[kind]}-{year}-{value:06d}"
