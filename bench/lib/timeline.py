"""When things happened to each order: status first, then a timeline that leads to it.

Pass one of the generator. For every order it draws the status (10 % open), the
channel and customer, and the times of each step (placed, paid, picked, packed,
shipped, delivered, cancelled, held) as integer epoch seconds, such that:

- nothing happens after `now`;
- closed orders spread over the last year, open ones are recent;
- the running SLA clock of about 1 % of all orders (10 % of the open ones) is past
  its due time, so the SLA sweeps have work, and every other running clock is not;
- dispatch clocks are met or breached the way the timeline says.

The skeletons are small (slots) and sorted by placing time, so order ids and numbers
follow intake order, as in a live system.
"""

from __future__ import annotations

import random

from bench.lib import reference as ref

MINUTE, HOUR, DAY = 60, 3600, 86400
HISTORY_DAYS = 365

# (status, hold reason, % of all orders). Open: new … partially_shipped and the holds (10 %).
STATUS_MIX = [
    ("delivered", None, 81.5),
    ("shipped", None, 3.5),
    ("cancelled", None, 5.0),
    ("new", None, 2.0),
    ("ready", None, 3.0),
    ("picking", None, 1.5),
    ("packed", None, 1.0),
    ("partially_shipped", None, 1.0),
    ("on_hold", "stock", 0.45),
    ("on_hold", "payment", 0.25),
    ("on_hold", "address", 0.3),
    ("on_hold", "review", 0.2),
    ("on_hold", "manual", 0.3),
]
DUE_SHARE = 0.01  # of all orders: their running clock is past due
# How long a paid open order has at least been waiting, per status (its steps must fit in).
MIN_AGE = {
    "ready": 5 * MINUTE,
    "picking": 30 * MINUTE,
    "packed": HOUR,
    "partially_shipped": 2 * HOUR,
    "on_hold": 10 * MINUTE,
}
HOLD_CLOCK_HOURS = 8  # stock and address holds are due the same working day


class Channel:
    __slots__ = (
        "auto_cancel",
        "code",
        "idx",
        "kind",
        "marketplace",
        "name",
        "payment_due",
        "routing",
        "share",
        "sla",
        "warn_pct",
    )

    def __init__(self, idx: int, row: tuple) -> None:
        self.idx = idx
        self.code, self.name, self.kind, sla_hours, self.warn_pct, self.auto_cancel, self.routing, self.share = row
        self.sla = sla_hours * HOUR
        self.marketplace = self.kind == "marketplace"
        # app.domain.sla.payment_deadline: auto-cancel time, else the second reminder (48 h)
        self.payment_due = (self.auto_cancel or 48) * HOUR


CHANNELS = [Channel(i, row) for i, row in enumerate(ref.CHANNELS)]
BY_CODE = {c.code: c for c in CHANNELS}


class Skeleton:
    """One order's status, parties and step times (epoch seconds, None = did not happen)."""

    __slots__ = (
        "cancel_kind",
        "cancelled",
        "channel",
        "customer",
        "delivered",
        "held",
        "hold",
        "overdue",
        "packed",
        "paid",
        "part_paid",
        "pick",
        "placed",
        "ready",
        "refunded",
        "shipped",
        "status",
    )

    def __init__(self, status: str, hold: str | None, channel: Channel, customer: int, overdue: bool) -> None:
        self.status, self.hold, self.channel, self.customer, self.overdue = status, hold, channel, customer, overdue
        self.placed = 0
        self.paid = self.part_paid = self.ready = self.pick = self.packed = self.shipped = None
        self.delivered = self.cancelled = self.refunded = self.held = None
        self.cancel_kind: str | None = None


class TimelineBuilder:
    def __init__(self, rng: random.Random, now: int, customer_countries: list[str], shops: set[int]) -> None:
        self.rng, self.now = rng, now
        self.countries, self.shops = customer_countries, shops
        self.oldest = now - HISTORY_DAYS * DAY
        self._mix = [(s, h) for s, h, _ in STATUS_MIX]
        self._mix_weights = [w for *_, w in STATUS_MIX]
        self._consumer_channels = {}
        for country in ref.COUNTRIES:
            allowed = [
                c
                for c in CHANNELS
                if c.code != "wholesale"
                and (c.code != "bol" or country in ("NL", "BE"))
                and (c.code != "pos" or country in ("NL", "GB"))
            ]
            self._consumer_channels[country] = (allowed, [c.share for c in allowed])

    def _u(self, lo: float, hi: float) -> int:
        return int(self.rng.uniform(lo, max(lo, hi)))

    def build(self, n_orders: int, n_customers: int) -> list[Skeleton]:
        rng = self.rng
        statuses = rng.choices(self._mix, weights=self._mix_weights, k=n_orders)
        open_orders = sum(1 for s, _ in statuses if s not in ("delivered", "shipped", "cancelled"))
        overdue_p = min(1.0, DUE_SHARE * n_orders / max(1, open_orders))
        skeletons = []
        for status, hold in statuses:
            # A long tail of loyal customers: low customer numbers order most.
            customer = int(n_customers * rng.random() ** 1.6)
            channel = self._channel(customer)
            unpaid = status == "new" or hold == "payment"
            if unpaid and channel.marketplace:
                channel = BY_CODE["webstore"]  # marketplaces only pass on paid orders
            is_open = status not in ("delivered", "shipped", "cancelled")
            sk = Skeleton(status, hold, channel, customer, is_open and rng.random() < overdue_p)
            self._times(sk)
            skeletons.append(sk)
        skeletons.sort(key=lambda s: s.placed)
        return skeletons

    def _channel(self, customer: int) -> Channel:
        if customer in self.shops:
            return BY_CODE["wholesale"]
        allowed, weights = self._consumer_channels[self.countries[customer]]
        return self.rng.choices(allowed, weights=weights)[0]

    def _pay_delay(self, ch: Channel) -> int:
        if ch.marketplace:
            return self._u(30, 4 * MINUTE)
        if ch.kind == "wholesale":
            return self._u(3 * HOUR, 52 * HOUR)  # bank transfer
        if self.rng.random() < 0.85:
            return self._u(30, 12 * MINUTE)
        return self._u(2 * HOUR, 40 * HOUR)

    # Step times ---------------------------------------------------------------------------

    def _times(self, sk: Skeleton) -> None:
        if sk.status in ("delivered", "shipped"):
            self._shipped(sk)
        elif sk.status == "cancelled":
            self._cancelled(sk)
        elif sk.status == "new" or sk.hold == "payment":
            self._awaiting_payment(sk)
        else:
            self._awaiting_dispatch(sk)

    def _placed_in_history(self, sk: Skeleton, last_offset: int) -> int:
        return self._u(self.oldest, self.now - last_offset - HOUR)

    def _shipped(self, sk: Skeleton) -> None:
        rng, ch = self.rng, sk.channel
        paid = self._pay_delay(ch)
        ready = paid + 2
        late = rng.random() < 0.06  # picked after the dispatch deadline
        pick = ready + (self._u(ch.sla, ch.sla + 36 * HOUR) if late else self._u(45 * MINUTE, 0.85 * ch.sla))
        packed = pick + self._u(10 * MINUTE, 150 * MINUTE)
        shipped = packed + self._u(20 * MINUTE, 6 * HOUR)
        transit = self._u(16 * HOUR, 100 * HOUR)
        if sk.status == "delivered":
            placed = self._placed_in_history(sk, shipped + transit)
            sk.delivered = placed + shipped + transit
        else:  # still on its way
            placed = self.now - shipped - self._u(10 * MINUTE, transit)
        sk.placed, sk.paid, sk.ready = placed, placed + paid, placed + ready
        sk.pick, sk.packed, sk.shipped = placed + pick, placed + packed, placed + shipped

    def _cancelled(self, sk: Skeleton) -> None:
        rng, ch = self.rng, sk.channel
        if ch.marketplace:
            kind = "refunded"
        elif ch.auto_cancel is None:
            kind = rng.choice(["refunded", "unpaid"])
        else:
            kind = rng.choices(["auto", "refunded", "unpaid"], weights=[40, 35, 25])[0]
        sk.cancel_kind = kind
        if kind == "auto":
            cancelled = ch.payment_due + self._u(MINUTE, 15 * MINUTE)
            last = cancelled
        elif kind == "unpaid":
            cancelled = self._u(10 * MINUTE, 30 * HOUR)
            last = cancelled
        else:
            paid = self._pay_delay(ch)
            cancelled = paid + 2 + self._u(30 * MINUTE, 0.6 * ch.sla)
            refunded = cancelled + self._u(5 * MINUTE, 90 * MINUTE)
            last = refunded
        sk.placed = placed = self._placed_in_history(sk, last)
        sk.cancelled = placed + cancelled
        if kind == "refunded":
            sk.paid, sk.ready, sk.refunded = placed + paid, placed + paid + 2, placed + refunded

    def _awaiting_payment(self, sk: Skeleton) -> None:
        """new, or on hold for payment: the payment clock runs from placing."""
        due_in = sk.channel.payment_due
        late_by = self._u(MINUTE, 36 * HOUR)  # how far past due an overdue clock is
        due = self.now - late_by if sk.overdue else self.now + self._u(MINUTE, due_in - 10 * MINUTE)
        sk.placed = placed = due - due_in
        if sk.hold == "payment":
            sk.part_paid = placed + self._u(MINUTE, min(30 * MINUTE, (self.now - placed) // 3))
            sk.held = sk.part_paid + MINUTE

    def _awaiting_dispatch(self, sk: Skeleton) -> None:
        """Paid open orders: the dispatch clock runs from payment to ship_by."""
        now, ch = self.now, sk.channel
        hold = sk.hold
        delay = self._pay_delay(ch)
        if sk.overdue:
            age = ch.sla + self._u(MINUTE, 36 * HOUR)
        elif hold in ("stock", "address"):
            # held at intake today: the hold clock (due 8 h after) has not run out yet
            delay = min(delay, 2 * HOUR)
            age = self._u(10 * MINUTE, (HOLD_CLOCK_HOURS - 2) * HOUR - delay)
        else:
            age = self._u(MIN_AGE[sk.status], ch.sla - MINUTE)
        sk.paid = paid = now - age
        sk.placed = placed = paid - delay
        if hold in ("review", "address", "stock"):
            sk.held = placed + 5  # held by the checks at intake, never ready
            return
        sk.ready = paid + 2
        if hold == "manual":  # a person stopped it after it was ready
            sk.held = sk.ready + self._u(MINUTE, (now - sk.ready) // 2)
            return
        if sk.status in ("picking", "packed", "partially_shipped"):
            sk.pick = sk.ready + self._u(0.2 * (now - sk.ready), 0.6 * (now - sk.ready))
        if sk.status in ("packed", "partially_shipped"):
            sk.packed = sk.pick + self._u(0.2 * (now - sk.pick), 0.6 * (now - sk.pick))
        if sk.status == "partially_shipped":
            sk.shipped = sk.packed + self._u(0.2 * (now - sk.packed), 0.8 * (now - sk.packed))
