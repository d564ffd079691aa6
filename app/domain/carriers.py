"""Carriers we hand parcels to, and what their tracking numbers look like.

A tracking number typed by hand (or read by a scanner from a label) is checked
against the carrier's published format before a parcel counts as shipped: a
wrong number means a customer who cannot follow the parcel and a support call.
Carriers whose formats we do not know go under "other" (any 4–40 characters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain.errors import ValidationFailed


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    pattern: str  # the whole normalised number must match
    format_hint: str  # finishes the sentence "A <name> tracking number is …"
    tracking_url: str | None  # "{number}" is replaced by the tracking number
    compact: bool = True  # spaces and dashes on printed labels are dropped before checking

    def matches(self, number: str) -> bool:
        return re.fullmatch(self.pattern, number) is not None

    def url_for(self, number: str) -> str | None:
        return self.tracking_url.format(number=number) if self.tracking_url else None


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in (
        Carrier(
            "ups",
            "UPS",
            r"1Z[0-9A-Z]{16}",
            "“1Z” followed by 16 letters or digits",
            "https://www.ups.com/track?tracknum={number}",
        ),
        Carrier(
            "dhl_express",
            "DHL Express",
            r"[0-9]{10}",
            "10 digits",
            "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}",
        ),
        Carrier(
            "postnl",
            "PostNL",
            r"3S[0-9A-Z]{13}",
            "“3S” followed by 13 letters or digits",
            "https://jouw.postnl.nl/track-and-trace/{number}",
        ),
        Carrier("dpd", "DPD", r"[0-9]{14}", "14 digits", "https://tracking.dpd.de/parcelstatus?query={number}"),
        Carrier(
            "usps",
            "USPS",
            r"[0-9]{20,22}",
            "20 to 22 digits",
            "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
        ),
        Carrier(
            "fedex",
            "FedEx",
            r"[0-9]{12}|[0-9]{15}",
            "12 or 15 digits",
            "https://www.fedex.com/fedextrack/?trknbr={number}",
        ),
        Carrier("other", "Other carrier", r"[^\x00-\x1f\x7f]{4,40}", "4 to 40 characters", None, compact=False),
    )
}

OTHER = "other"


def get_carrier(code: str | None) -> Carrier:
    """The carrier with this code; a clear refusal for anything else."""
    carrier = CARRIERS.get((code or "").strip().lower())
    if carrier is None:
        names = ", ".join(c.code for c in CARRIERS.values())
        raise ValidationFailed(
            f"“{code}” is not a carrier we ship with; choose one of {names}.", details={"carrier": [f"One of {names}."]}
        )
    return carrier


def normalise_tracking(carrier: Carrier, raw: str) -> str:
    text = (raw or "").strip()
    if carrier.compact:
        text = re.sub(r"[\s-]+", "", text).upper()
    return text


def validate_tracking(carrier_code: str | None, raw: str | None) -> tuple[Carrier, str]:
    """(carrier, tracking number as stored) or ValidationFailed saying what the format is."""
    carrier = get_carrier(carrier_code)
    number = normalise_tracking(carrier, raw or "")
    if not number:
        raise ValidationFailed(
            "Enter the tracking number from the parcel's label.", details={"tracking_number": ["Required."]}
        )
    if not carrier.matches(number):
        message = f"A {carrier.name} tracking number is {carrier.format_hint}; “{raw.strip()}” is not."
        raise ValidationFailed(message, details={"tracking_number": [message]})
    return carrier, number


def carrier_name(code: str | None) -> str:
    """How a stored carrier code reads on a page (older free-text values are shown as they are)."""
    if not code:
        return ""
    carrier = CARRIERS.get(code)
    return carrier.name if carrier else code


def tracking_link(code: str | None, number: str | None) -> str | None:
    carrier = CARRIERS.get(code or "")
    return carrier.url_for(number) if carrier and number else None


def carrier_choices() -> list[tuple[str, str]]:
    return [(c.code, c.name) for c in CARRIERS.values()]
