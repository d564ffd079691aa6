"""Order review rules: is the address plausible, are the prices what we sell at?

Each rule returns the problems it found as sentences; the service turns the first
problem into a hold (address before review, review before stock).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.order_states import HoldReason, OrderStatus

# Postcode formats (facts from each postal service's published format).
POSTCODE_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "CA": re.compile(r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$"),
    "GB": re.compile(r"^(GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})$"),
    "DE": re.compile(r"^\d{5}$"),
    "FR": re.compile(r"^\d{5}$"),
    "NL": re.compile(r"^[1-9]\d{3} ?[A-Z]{2}$"),
    "ES": re.compile(r"^(0[1-9]|[1-4]\d|5[0-2])\d{3}$"),
    "IT": re.compile(r"^\d{5}$"),
    "BR": re.compile(r"^\d{5}-?\d{3}$"),
    "AU": re.compile(r"^\d{4}$"),
    "BE": re.compile(r"^[1-9]\d{3}$"),
    "AT": re.compile(r"^\d{4}$"),
}

POSTCODE_EXAMPLES = {
    "US": "12345 or 12345-6789", "CA": "K1A 0B1", "GB": "SW1A 1AA", "DE": "10115", "FR": "75001",
    "NL": "1011 AB", "ES": "28001", "IT": "00184", "BR": "01310-100", "AU": "2000", "BE": "1000",
    "AT": "1010",
}

REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postcode", "country")


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postcode: str
    country: str
    line2: str | None = None
    region: str | None = None


def normalise_postcode(country: str, postcode: str) -> str:
    return re.sub(r"\s+", " ", postcode.strip().upper())


def address_problems(address: Address) -> list[str]:
    """Why the parcel might not arrive; empty when the address looks deliverable."""
    problems = []
    for name in REQUIRED_ADDRESS_FIELDS:
        if not (getattr(address, name) or "").strip():
            problems.append(f"The address has no {name}.")
    if problems:
        return problems
    country = address.country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        return [f"“{address.country}” is not a two-letter country code."]
    pattern = POSTCODE_PATTERNS.get(country)
    postcode = normalise_postcode(country, address.postcode)
    if pattern and not pattern.match(postcode):
        return [f"Postcode “{address.postcode}” does not look like a {country} postcode "
                f"(expected something like {POSTCODE_EXAMPLES[country]})."]
    if len(address.line1.strip()) < 3:
        problems.append("The street line is too short to deliver to.")
    if country in {"US", "CA", "AU", "BR"} and not (address.region or "").strip():
        problems.append(f"Addresses in {country} need a state or province.")
    return problems


@dataclass(frozen=True)
class PricedLine:
    sku: str
    unit_price: Decimal
    catalog_price: Decimal


def price_problems(lines: Sequence[PricedLine], tolerance_pct: Decimal) -> list[str]:
    """Lines priced further from the catalog than the channel's tolerance allows.

    A zero catalog price (free items) accepts only zero."""
    problems = []
    for line in lines:
        if line.catalog_price == 0:
            if line.unit_price != 0:
                problems.append(f"{line.sku} is free in the catalog but sold at {line.unit_price}.")
            continue
        deviation = abs(line.unit_price - line.catalog_price) / line.catalog_price * 100
        if deviation > tolerance_pct:
            problems.append(
                f"{line.sku} sold at {line.unit_price}, catalog price {line.catalog_price} "
                f"({deviation.quantize(Decimal('0.1'))} % off, tolerance {tolerance_pct} %)."
            )
    return problems


@dataclass
class ReviewOutcome:
    """What the review found, and where that puts an order."""

    address: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    short: dict[str, int] = field(default_factory=dict)  # sku -> units missing
    paid: bool = False

    @property
    def hold(self) -> tuple[HoldReason, str] | None:
        """The first problem, in the order a person should fix them: address, prices, stock."""
        if self.address:
            return HoldReason.ADDRESS, self.address[0]
        if self.prices:
            return HoldReason.REVIEW, self.prices[0]
        if self.short:
            missing = ", ".join(f"{qty} × {sku}" for sku, qty in self.short.items())
            return HoldReason.STOCK, f"Waiting for stock: {missing}."
        return None

    @property
    def target(self) -> OrderStatus:
        """on_hold when anything is wrong, else ready when paid, else new (awaiting payment)."""
        if self.hold is not None:
            return OrderStatus.ON_HOLD
        return OrderStatus.READY if self.paid else OrderStatus.NEW
