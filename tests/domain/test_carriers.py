"""Tracking numbers are checked against each carrier's format before a parcel counts as shipped."""

import pytest

from app.domain.carriers import CARRIERS, carrier_name, tracking_link, validate_tracking
from app.domain.errors import ValidationFailed


@pytest.mark.parametrize(
    ("carrier", "typed", "stored"),
    [
        ("ups", "1Z999AA10123456784", "1Z999AA10123456784"),
        ("ups", "1z 999 aa1 0123 4567 84", "1Z999AA10123456784"),  # as printed on the label, in lower case
        ("dhl_express", "1234567890", "1234567890"),
        ("postnl", "3SABCD1234567", None),  # 3S + 11: too short
        ("postnl", "3SABCD123456789", "3SABCD123456789"),
        ("dpd", "0123 4567 8901 23", "01234567890123"),
        ("usps", "9400111899223197428490", "9400111899223197428490"),
        ("usps", "94001118992231974284", "94001118992231974284"),
        ("fedex", "123456789012", "123456789012"),
        ("fedex", "123456789012345", "123456789012345"),
        ("other", "  Local courier #42  ", "Local courier #42"),
        ("UPS", "1Z999AA10123456784", "1Z999AA10123456784"),  # the carrier code is not case-sensitive
    ],
)
def test_valid_numbers_are_accepted_and_normalised(carrier, typed, stored):
    if stored is None:
        with pytest.raises(ValidationFailed):
            validate_tracking(carrier, typed)
        return
    found, number = validate_tracking(carrier, typed)
    assert number == stored
    assert found.code == carrier.lower()


@pytest.mark.parametrize(
    ("carrier", "typed", "says"),
    [
        ("ups", "1Z999AA1012345678", "“1Z” followed by 16 letters or digits"),
        ("ups", "2Z999AA10123456784", "UPS"),
        ("dhl_express", "123456789", "10 digits"),
        ("dhl_express", "12345678AB", "10 digits"),
        ("dpd", "1234567890123", "14 digits"),
        ("usps", "1234567890123456789", "20 to 22 digits"),
        ("usps", "12345678901234567890123", "20 to 22 digits"),
        ("fedex", "1234567890123", "12 or 15 digits"),
        ("other", "abc", "4 to 40 characters"),
        ("other", "x" * 41, "4 to 40 characters"),
    ],
)
def test_wrong_numbers_are_refused_with_the_expected_format(carrier, typed, says):
    with pytest.raises(ValidationFailed) as exc:
        validate_tracking(carrier, typed)
    assert says in exc.value.message
    assert "tracking_number" in exc.value.details


def test_an_empty_number_or_an_unknown_carrier_is_refused():
    with pytest.raises(ValidationFailed, match="tracking number"):
        validate_tracking("ups", "   ")
    with pytest.raises(ValidationFailed, match="not a carrier") as exc:
        validate_tracking("pigeon", "1234")
    assert "carrier" in exc.value.details


def test_names_and_tracking_links():
    assert carrier_name("dhl_express") == "DHL Express"
    assert carrier_name("DHL") == "DHL"  # older free-text values read as they were typed
    assert carrier_name(None) == ""
    assert tracking_link("ups", "1Z999AA10123456784").endswith("1Z999AA10123456784")
    assert tracking_link("other", "abcd") is None
    assert all(c.tracking_url is None or "{number}" in c.tracking_url for c in CARRIERS.values())
