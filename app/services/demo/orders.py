"""Demo orders, each built from its status backwards.

The status (and hold reason) is drawn first; lines, route, timeline,
shipments, payments, SLA clocks and audit events are then worked out so that
the order could really have got there. Every time is an offset from the
order's placing, which is itself placed so that nothing happens after the
reference "now" (the anchor).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from app.domain.enums import ChannelKind
from app.domain.order_states import HoldReason, OrderStatus
from app.services.demo import reference as ref
from app.services.demo.catalog import Catalog, ProductPlan
from app.services.demo.lifecycle import HOUR, MINUTE, SECOND, complete_order
from app.services.demo.people import People
from app.services.demo.plans import LinePlan, OrderPlan

S, H = OrderStatus, HoldReason
WINDOW = timedelta(days=60)  # orders are placed within the last 60 days

# (status, hold reason, share in %); every row appears at least once when n allows. The
# shares are a steady shop's backlog: with a constant daily volume over the window, an
# order spends hours in the open columns, days in transit and the rest of the window
# delivered, so the orders-per-day curve stays flat.
STATUS_MIX: list[tuple[str, str | None, float]] = [
    (S.DELIVERED, None, 87.6), (S.SHIPPED, None, 3.5), (S.CANCELLED, None, 4), (S.PARTIALLY_SHIPPED, None, 0.4),
    (S.PACKED, None, 0.4), (S.PICKING, None, 0.4), (S.READY, None, 1.0), (S.NEW, None, 0.8),
    (S.ON_HOLD, H.STOCK, 0.8), (S.ON_HOLD, H.PAYMENT, 0.3), (S.ON_HOLD, H.ADDRESS, 0.3),
    (S.ON_HOLD, H.REVIEW, 0.2), (S.ON_HOLD, H.MANUAL, 0.3),
]
# How long ago the order's latest step happened, per status or hold reason: a mixture of
# (weight, from hours, to hours). Most open work is recent; a tail is overdue.
SINCE_HOURS: dict[str, list[tuple[float, float, float]]] = {
    S.NEW: [(1, 0.25, 70)],
    S.READY: [(80, 1 / 6, 16), (20, 16, 60)],
    S.PICKING: [(1, 1 / 12, 4)],
    S.PACKED: [(1, 1 / 6, 10)],
    S.PARTIALLY_SHIPPED: [(1, 2, 96)],
    H.STOCK: [(50, 1 / 3, 8), (50, 8, 216)],
    H.ADDRESS: [(60, 1 / 3, 8), (40, 8, 72)],
    H.REVIEW: [(1, 0.25, 40)],
    H.MANUAL: [(1, 0.5, 120)],
}


def draw_statuses(rng: random.Random, n: int) -> list[tuple[str, str | None]]:
    """n (status, hold reason) pairs in the STATUS_MIX shares, each pair at least once if n allows."""
    pairs = [(s, h) for s, h, _ in STATUS_MIX]
    drawn = pairs[:n] + rng.choices(pairs, weights=[w for *_, w in STATUS_MIX], k=max(0, n - len(pairs)))
    rng.shuffle(drawn)
    return drawn


class OrderBuilder:
    def __init__(self, rng: random.Random, anchor: datetime, catalog: Catalog, people: People) -> None:
        self.rng, self.anchor, self.catalog, self.people = rng, anchor, catalog, people
        self._by_priority = sorted(catalog.locations, key=lambda c: catalog.locations[c]["priority"])

    def build(self, status: str, hold: str | None) -> OrderPlan:
        rng = self.rng
        country = rng.choices(list(ref.COUNTRY_WEIGHTS), weights=list(ref.COUNTRY_WEIGHTS.values()))[0]
        weights = ref.COUNTRY_CHANNELS[country]
        code = rng.choices(list(weights), weights=list(weights.values()))[0]
        unpaid = status == S.NEW or hold == H.PAYMENT
        if unpaid and self.catalog.channels[code]["kind"] == ChannelKind.MARKETPLACE:
            code = "webstore"  # marketplace orders arrive paid
        channel = self.catalog.channels[code]
        customer = self.people.buyer(country) if code == "wholesale" else self.people.consumer(country)
        order = OrderPlan(channel=channel, customer=customer, address=dict(customer.address), status=status,
                          hold_reason=hold)
        if code == "webstore" and rng.random() < 0.06:
            order.priority = 1  # express delivery
        self._lines(order)
        self._route(order)
        if hold == H.STOCK:
            self._starve(order)
        order.subtotal = sum((line.gross for line in order.lines), Decimal("0.00"))
        order.tax_total = sum((line.tax for line in order.lines), Decimal("0.00"))
        order.shipping_price = self._shipping(order)
        order.total = order.subtotal + order.shipping_price
        self._live(order, self._timeline(order))
        return order

    # Lines and routing -----------------------------------------------------------------

    def _lines(self, order: OrderPlan) -> None:
        rng, wholesale = self.rng, order.channel["kind"] == ChannelKind.WHOLESALE
        count = rng.randint(2, 4) if wholesale else rng.choices([1, 2, 3, 4], weights=[50, 28, 14, 8])[0]
        if order.status == S.PARTIALLY_SHIPPED:
            count = max(count, 2)
        chosen: list[ProductPlan] = []
        for _ in range(40):
            if len(chosen) == count:
                break
            product = rng.choices(self.catalog.orderable, cum_weights=self.catalog.cum_weights)[0]
            if product not in chosen:
                chosen.append(product)
        rates = ref.TAX_RATES[order.country]
        for no, product in enumerate(chosen, start=1):
            if wholesale:
                price = product.unit_price
                qty = rng.choice([6, 12, 18, 24] if price < 20 else [4, 6, 8, 12] if price < 60 else [2, 3, 4, 6])
            else:
                qty = rng.choices([1, 2, 3, 4], weights=[75, 18, 5, 2])[0]
            order.lines.append(LinePlan(no, product, qty, product.unit_price,
                                        rates[0 if product.tax_class == "standard" else 1]))

    def _route(self, order: OrderPlan) -> None:
        """One location for the whole order if possible (region first), else each line where it is stocked."""
        stocked, prefs = self.catalog.stocked_at, ref.ROUTES[order.country]
        for loc in prefs:
            if all(stocked(line.product, loc) for line in order.lines):
                for line in order.lines:
                    line.location = loc
                return
        for line in order.lines:
            line.location = next(loc for loc in (*prefs, *self._by_priority) if stocked(line.product, loc))

    def _starve(self, order: OrderPlan) -> None:
        """A `stock` hold: the first line asks for a product that is sold out everywhere."""
        rng, first = self.rng, order.lines[0]
        candidates = [p for p in self.catalog.sold_out if all(p is not line.product for line in order.lines)]
        first.product = rng.choice(candidates or self.catalog.sold_out)
        first.unit_price = first.product.unit_price
        first.tax_rate = ref.TAX_RATES[order.country][0 if first.product.tax_class == "standard" else 1]
        first.location = None
        if rng.random() < 0.5:  # nothing allocated at all rather than part of the order
            for line in order.lines:
                line.location = None
        order.hold_note = f"Not enough stock of {first.product.sku} at any location."

    def _shipping(self, order: OrderPlan) -> Decimal:
        code, subtotal = order.channel["code"], order.subtotal
        if code == "webstore":
            if order.priority:
                return Decimal("12.95")
            threshold, fee = {"US": (100, "9.95"), "GB": (75, "7.95"), "FR": (75, "6.95")}.get(
                order.country, (50, "4.95"))
            return Decimal("0.00") if subtotal >= threshold else Decimal(fee)
        if code == "amazon":
            return Decimal("3.99") if subtotal < 29 else Decimal("0.00")
        if code == "wholesale":
            return Decimal("25.00") if subtotal < 500 else Decimal("0.00")
        return Decimal("0.00")

    # Timeline ------------------------------------------------------------------------------

    def _u(self, lo: timedelta, hi: timedelta) -> timedelta:
        return timedelta(seconds=self.rng.uniform(lo.total_seconds(), max(lo, hi).total_seconds()))

    def _pay_delay(self, channel: dict) -> timedelta:
        if channel["kind"] == ChannelKind.MARKETPLACE:
            return self._u(0.5 * MINUTE, 4 * MINUTE)
        if channel["kind"] == ChannelKind.WHOLESALE:
            return self._u(3 * HOUR, 52 * HOUR)  # bank transfer
        if self.rng.random() < 0.85:
            return self._u(0.5 * MINUTE, 12 * MINUTE)
        return self._u(2 * HOUR, 40 * HOUR)  # bank transfer or pay-later that settles late

    def _transit(self, location: str, country: str) -> timedelta:
        domestic = location[:2] == country
        return self._u(16 * HOUR, 60 * HOUR) if domestic else self._u(40 * HOUR, 140 * HOUR)

    def _timeline(self, order: OrderPlan) -> dict[str, timedelta]:
        """Offsets from placing for each step the order went through; sets placed_at."""
        rng, status, hold = self.rng, order.status, order.hold_reason
        sla = timedelta(hours=order.channel["dispatch_sla_hours"])
        t: dict[str, timedelta] = {}
        pay = self._pay_delay(order.channel)
        since: tuple[timedelta, timedelta] | None = None
        if status == S.NEW:
            pass
        elif hold == H.PAYMENT:
            t["part_paid"], t["held"] = pay, pay + MINUTE
            since = (10 * MINUTE, 64 * HOUR - t["held"])
        elif hold == H.MANUAL:
            t["paid"], t["ready"] = pay, pay + 2 * SECOND
            t["held"] = t["ready"] + self._u(HOUR, 20 * HOUR)
        elif hold is not None:  # stock, address, review: held by the checks at intake
            t["held"], t["paid"] = 5 * SECOND, pay
        elif status == S.CANCELLED:
            self._cancel_timeline(order, t, pay, sla)
        else:
            t["paid"], t["ready"] = pay, pay + 2 * SECOND
            if status != S.READY:
                late = rng.random() < 0.07  # picked after the dispatch deadline
                wait = self._u(sla, sla + 36 * HOUR) if late else self._u(45 * MINUTE, 0.85 * sla)
                t["pick"] = t["ready"] + wait
            if status not in (S.READY, S.PICKING):
                t["packed"] = t["pick"] + self._u(10 * MINUTE, 150 * MINUTE)
            if status not in (S.READY, S.PICKING, S.PACKED):
                t["shipped"] = t["packed"] + self._u(20 * MINUTE, 6 * HOUR)
                t["transit"] = self._transit(order.lines[0].location, order.country)
            if status == S.DELIVERED:
                t["delivered"] = t["shipped"] + t.pop("transit")
        last = max((v for k, v in t.items() if k != "transit"), default=timedelta(0))
        if since is None:
            key = hold if hold in SINCE_HOURS else status
            if key in SINCE_HOURS:
                mixture = SINCE_HOURS[key]
                _, lo, hi = rng.choices(mixture, weights=[m[0] for m in mixture])[0]
                since = (lo * HOUR, hi * HOUR)
            elif status == S.SHIPPED:
                since = (HOUR, 0.9 * t.pop("transit"))
            else:  # delivered, cancelled: anywhere in the window
                since = (timedelta(0), WINDOW - last - HOUR)
        order.placed_at = self.anchor - self._u(*since) - last
        return t

    def _cancel_timeline(self, order: OrderPlan, t: dict, pay: timedelta, sla: timedelta) -> None:
        rng, channel = self.rng, order.channel
        if channel["kind"] == ChannelKind.MARKETPLACE:
            variant = "refunded"
        elif channel["auto_cancel_hours"] is None:
            variant = rng.choice(["refunded", "unpaid"])
        else:
            variant = rng.choices(["auto", "refunded", "unpaid"], weights=[40, 35, 25])[0]
        order.cancel_kind = variant
        if variant == "auto":
            t["cancelled"] = timedelta(hours=channel["auto_cancel_hours"]) + self._u(MINUTE, 15 * MINUTE)
        elif variant == "unpaid":
            t["cancelled"] = self._u(10 * MINUTE, 30 * HOUR)
        else:
            t["paid"], t["ready"] = pay, pay + 2 * SECOND
            t["cancelled"] = t["ready"] + self._u(30 * MINUTE, 0.6 * sla)
            t["refunded"] = t["cancelled"] + self._u(5 * MINUTE, 90 * MINUTE)

    # Making it real ----------------------------------------------------------------------------

    def _live(self, order: OrderPlan, t: dict[str, timedelta]) -> None:
        complete_order(order, t, rng=self.rng, anchor=self.anchor, catalog=self.catalog)
