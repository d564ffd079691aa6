"""Money arithmetic: totals and the tax they contain, in Decimal, rounded half-up per line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TaxLine:
    amount: Decimal  # qty × unit price (gross when prices include tax)
    rate: Decimal  # percent, e.g. 21.00


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal
    gross: Decimal
    by_rate: dict[Decimal, tuple[Decimal, Decimal]]  # rate -> (net, tax)


def totals(lines: Iterable[TaxLine], *, prices_include_tax: bool) -> Totals:
    """Net, tax and gross of some lines; tax is computed per rate on the summed amounts
    (one rounding per rate, as invoices show it)."""
    per_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        per_rate[line.rate] = per_rate.get(line.rate, Decimal("0")) + line.amount
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for rate, amount in sorted(per_rate.items()):
        if prices_include_tax:
            tax = round_money(amount * rate / (100 + rate))
            net = round_money(amount) - tax
        else:
            net = round_money(amount)
            tax = round_money(amount * rate / 100)
        by_rate[rate] = (net, tax)
    net = sum((n for n, _ in by_rate.values()), Decimal("0.00"))
    tax = sum((t for _, t in by_rate.values()), Decimal("0.00"))
    return Totals(net=net, tax=tax, gross=net + tax, by_rate=by_rate)
