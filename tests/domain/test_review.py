from decimal import Decimal

import pytest

from app.domain.money import TaxLine, totals
from app.domain.review import Address, PricedLine, address_problems, price_problems


def addr(country, postcode, region=None, line1="Main Street 1"):
    return Address(name="A. Buyer", line1=line1, city="Town", postcode=postcode, country=country, region=region)


@pytest.mark.parametrize(("country", "good", "bad", "region"), [
    ("US", "10001", "1000", "NY"), ("US", "10001-1234", "ABCDE", "NY"), ("CA", "K1A 0B1", "12345", "ON"),
    ("GB", "SW1A 1AA", "12345", None), ("DE", "10115", "1011", None), ("FR", "75001", "7500", None),
    ("NL", "1011 AB", "0123 AB", None), ("NL", "1011AB", "1011", None), ("ES", "28001", "99001", None),
    ("IT", "00184", "0018", None), ("BR", "01310-100", "0131", "SP"), ("AU", "2000", "20000", "NSW"),
])
def test_postcode_formats(country, good, bad, region):
    assert address_problems(addr(country, good, region)) == []
    problems = address_problems(addr(country, bad, region))
    assert problems and country in problems[0]


def test_unknown_country_accepts_any_non_empty_postcode():
    assert address_problems(addr("JP", "anything")) == []
    assert "postcode" in address_problems(addr("JP", " "))[0]


def test_missing_fields_are_named():
    problems = address_problems(Address(name="", line1="x", city="", postcode="1", country="NL"))
    assert any("name" in p for p in problems) and any("city" in p for p in problems)


def test_us_needs_a_state():
    assert "state" in address_problems(addr("US", "10001"))[0]


def test_price_tolerance():
    lines = [PricedLine("A", Decimal("9.00"), Decimal("10.00")), PricedLine("B", Decimal("5.00"), Decimal("10.00"))]
    problems = price_problems(lines, Decimal("10"))
    assert len(problems) == 1 and problems[0].startswith("B")


def test_tax_inclusive_totals_by_rate():
    t = totals([TaxLine(Decimal("121.00"), Decimal("21")), TaxLine(Decimal("10.90"), Decimal("9"))],
               prices_include_tax=True)
    assert t.gross == Decimal("131.90")
    assert t.by_rate[Decimal("21")] == (Decimal("100.00"), Decimal("21.00"))
    assert t.by_rate[Decimal("9")] == (Decimal("10.00"), Decimal("0.90"))


def test_net_prices_add_tax_on_top():
    t = totals([TaxLine(Decimal("100.00"), Decimal("21"))], prices_include_tax=False)
    assert (t.net, t.tax, t.gross) == (Decimal("100.00"), Decimal("21.00"), Decimal("121.00"))
