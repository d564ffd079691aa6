"""Demo customers: consumers in the countries the locations serve, and a few shops buying wholesale."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

from app.services.demo import reference as ref

REPEAT_SHARE = 0.28  # share of consumer orders placed by someone who ordered before


@dataclass(slots=True, eq=False)
class CustomerPlan:
    email: str
    name: str
    country: str
    address: dict  # ship_name, ship_line1, ship_line2, ship_city, ship_region, ship_postcode, ship_country
    business: bool = False
    id: int = 0


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


class People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.customers: list[CustomerPlan] = []
        self._consumers: dict[str, list[CustomerPlan]] = {c: [] for c in ref.COUNTRY_WEIGHTS}
        self._buyers: dict[str, list[CustomerPlan]] = {}
        self._emails: dict[str, None] = {}

    def consumer(self, country: str) -> CustomerPlan:
        known = self._consumers[country]
        if known and self.rng.random() < REPEAT_SHARE:
            return self.rng.choice(known)
        first = self.rng.choice(ref.FIRST_NAMES[country])
        last = self.rng.choice(ref.LAST_NAMES[country])
        name = f"{first} {last}"
        customer = CustomerPlan(email=self._email(f"{_ascii(first)}.{_ascii(last)}"), name=name, country=country,
                                address=self.address(country, name))
        known.append(customer)
        self.customers.append(customer)
        return customer

    def buyer(self, country: str) -> CustomerPlan:
        if country not in self._buyers:
            self._buyers[country] = []
            for company, home in ref.WHOLESALE_BUYERS:
                if home == country:
                    customer = CustomerPlan(email=self._email(f"orders.{_ascii(company)}"), name=company,
                                            country=country, address=self.address(country, company),
                                            business=True)
                    self._buyers[country].append(customer)
                    self.customers.append(customer)
        return self.rng.choice(self._buyers[country])

    def address(self, country: str, name: str) -> dict:
        rng = self.rng
        city, region, rule = rng.choice(ref.CITIES[country])
        return {
            "ship_name": name,
            "ship_line1": ref.street_line(rng, country, rng.choice(ref.STREETS[country])),
            "ship_line2": ref.second_line(rng, country),
            "ship_city": city,
            "ship_region": region,
            "ship_postcode": ref.postcode(rng, rule),
            "ship_country": country,
        }

    def _email(self, local: str) -> str:
        domain = self.rng.choice(ref.EMAIL_DOMAINS)
        email, n = f"{local}@{domain}", 1
        while email in self._emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self._emails[email] = None
        return email
