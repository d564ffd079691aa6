"""Pass two of the generator: each order skeleton becomes rows.

For every order: the order and its lines, payments and refunds, allocations (open
orders hold stock), shipments and their lines, SLA clocks and the order's audit
trail, all consistent with the CHECK constraints of app/models (hold_reason iff
on_hold; qty_allocated + qty_shipped <= qty; …). What the stock ledger needs is
collected on the way: units reserved per level, units shipped per level and month,
and the shipment moves themselves (written later, in time order, by bench/lib/stock.py).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from bench.lib import reference as ref
from bench.lib.parties import Catalog, People
from bench.lib.sinks import Sink
from bench.lib.timeline import DAY, HOLD_CLOCK_HOURS, HOUR, MINUTE, Skeleton

INTAKE = "token:integrations@orderdeck.example"
OPS = "user:ops@orderdeck.example"
CARRIER_HOOK = "token:carrier-tracking@orderdeck.example"
AUTO_CANCEL = "job:auto_cancel"
RECEIPT_PERIOD = 30 * DAY  # purchase orders arrive monthly (bench/lib/stock.py)

LOCATION_CODES = [row[0] for row in ref.LOCATIONS]
LOC_INDEX = {code: i for i, code in enumerate(LOCATION_CODES)}
CARRIERS_AT = {
    "NL-RTM": ["PostNL", "DHL", "DPD"],
    "DE-LEJ": ["DHL", "DPD"],
    "FR-LYS": ["DPD", "DHL"],
    "ES-MAD": ["DHL", "DPD"],
    "IT-MXP": ["DHL", "DPD"],
    "GB-LON": ["Royal Mail", "DPD"],
    "US-NJ": ["UPS", "USPS", "FedEx"],
    "US-LAX": ["UPS", "USPS", "FedEx"],
    "CA-YYZ": ["Canada Post", "UPS"],
    "AU-SYD": ["Australia Post", "DHL"],
}
OPEN = {"new", "on_hold", "ready", "picking", "packed", "partially_shipped"}

ORDER_COLUMNS = (
    "id",
    "number",
    "channel_id",
    "external_id",
    "customer_id",
    "content_hash",
    "source",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postcode",
    "ship_country",
    "address_status",
    "currency",
    "prices_include_tax",
    "subtotal",
    "shipping_price",
    "tax_total",
    "total",
    "paid_amount",
    "refunded_amount",
    "placed_at",
    "paid_at",
    "ship_by",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "status",
    "payment_status",
    "hold_reason",
    "held_at",
    "held_by",
    "hold_note",
    "review_cleared",
    "priority",
    "replaces_order_id",
    "version",
    "created_at",
    "updated_at",
)
TABLES = {
    "orders": ORDER_COLUMNS,
    "order_lines": (
        "id",
        "order_id",
        "line_no",
        "product_id",
        "sku",
        "name",
        "qty",
        "unit_price",
        "tax_rate",
        "qty_allocated",
        "qty_shipped",
        "qty_returned",
    ),
    "payments": ("id", "order_id", "amount", "method", "reference", "received_at", "created_by"),
    "refunds": (
        "id",
        "order_id",
        "return_id",
        "credit_note_id",
        "amount",
        "method",
        "reference",
        "reason",
        "refunded_at",
        "created_by",
    ),
    "allocations": ("id", "order_line_id", "order_id", "product_id", "location_id", "qty", "created_at"),
    "shipments": (
        "id",
        "number",
        "order_id",
        "location_id",
        "wave_id",
        "status",
        "carrier",
        "tracking_number",
        "created_at",
        "packed_at",
        "shipped_at",
        "delivered_at",
    ),
    "shipment_lines": ("id", "shipment_id", "order_line_id", "qty", "qty_packed"),
    "sla_clocks": (
        "id",
        "order_id",
        "kind",
        "state",
        "started_at",
        "warn_at",
        "due_at",
        "warned_at",
        "notice_at",
        "noticed_at",
        "met_at",
        "breached_at",
        "stopped_at",
        "breach_reason",
        "location_id",
    ),
    "events": (
        "id",
        "entity_type",
        "entity_id",
        "action",
        "from_state",
        "to_state",
        "user_id",
        "actor",
        "created_at",
        "details",
    ),
}


def amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def tax_contained(gross: int, rate_bp: int) -> int:
    """VAT inside a tax-inclusive amount in cents, rounded half up (app.domain.money)."""
    return (2 * gross * rate_bp + 10000 + rate_bp) // (2 * (10000 + rate_bp))


def external_id(channel: str, oid: int) -> str:
    """Each channel's own order-id format; unique per channel because it embeds the order id."""
    if channel == "webstore":
        return f"WEB-{100000 + oid}"
    if channel == "amazon":
        return f"{302 + oid % 4}-{(oid * 7919) % 10**7:07d}-{oid:07d}"
    if channel == "bol":
        return str(1_042_000_000 + oid * 7)
    if channel == "ebay":
        return f"{12 + oid % 9}-{oid:08d}-{(oid * 31) % 100000:05d}"
    if channel == "wholesale":
        return f"PO-{oid:07d}"
    return f"POS-{oid:08d}"


class OrderWriter:
    def __init__(self, sink: Sink, rng: random.Random, now: int, catalog: Catalog, people: People) -> None:
        self.sink, self.rng, self.now = sink, rng, now
        self.catalog, self.people = catalog, people
        self.n_locations = len(LOCATION_CODES)
        self.receipts_start = now - 366 * DAY + 7 * HOUR
        self.periods = (now - self.receipts_start) // RECEIPT_PERIOD + 1
        levels = len(catalog) * self.n_locations
        self.reserved = [0] * levels
        self.shipped = [0] * (levels * self.periods)
        self.moves: list[tuple] = []  # (time, level, qty, order id, shipment id)
        self.next_id = dict.fromkeys(TABLES, 1)
        self.stats = {"open": 0, "running_clocks": 0, "due_clocks": 0}
        self._product_range = range(len(catalog))

    # Batches ------------------------------------------------------------------------------

    def write(self, skeletons: list[Skeleton], batch: int, progress: Callable[[int], None]) -> None:
        for start in range(0, len(skeletons), batch):
            rows = {table: [] for table in TABLES}
            for i in range(start, min(start + batch, len(skeletons))):
                self._order(i + 1, skeletons[i], rows)
            for table, columns in TABLES.items():
                if rows[table]:
                    self.sink.load(table, columns, rows[table])
            self.sink.commit()
            progress(min(start + batch, len(skeletons)))

    def _take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    # One order ----------------------------------------------------------------------------

    def _location(self, country: str, region: str | None) -> int:
        prefs = ref.COUNTRIES[country][3]
        if country == "US" and region in ref.WEST_COAST:
            prefs = ("US-LAX", "US-NJ")
        return LOC_INDEX[prefs[0] if self.rng.random() < 0.85 else prefs[1]]

    def _lines(self, sk: Skeleton, country: str) -> list[list]:
        """[product index, qty, unit price, tax rate] per line, products distinct."""
        rng, catalog = self.rng, self.catalog
        wholesale = sk.channel.code == "wholesale"
        count = rng.randint(2, 4) if wholesale else rng.choices((1, 2, 3, 4), weights=(50, 28, 14, 8))[0]
        if sk.status == "partially_shipped":
            count = max(count, 2)
        chosen: list[int] = []
        if sk.hold == "stock":
            chosen.append(rng.choice(catalog.sold_out))
        while len(chosen) < count:
            for p in rng.choices(self._product_range, cum_weights=catalog.cum_weights, k=count - len(chosen)):
                if p not in chosen and p not in catalog.sold_out_set:
                    chosen.append(p)
        standard, reduced = ref.COUNTRIES[country][2]
        lines = []
        for p in chosen:
            qty = rng.choice((6, 12, 24)) if wholesale else rng.choices((1, 2, 3, 4), weights=(75, 18, 5, 2))[0]
            lines.append([p, qty, catalog.prices[p], reduced if catalog.reduced[p] else standard])
        if sk.hold == "review":  # sold well under the catalogue price: the price check holds it
            lines[0][2] = lines[0][2] * 70 // 100
        return lines

    def _order(self, oid: int, sk: Skeleton, rows: dict[str, list]) -> None:
        rng, sink, catalog = self.rng, self.sink, self.catalog
        t, money, flag, rate = sink.time, sink.money, sink.flag, sink.rate
        ch, status, hold, cust = sk.channel, sk.status, sk.hold, sk.customer
        number = f"SO-{oid:06d}"
        line1, line2, city, region, postcode, country = self.people.addresses[cust]
        loc = self._location(country, region)
        loc_code, loc_id = LOCATION_CODES[loc], loc + 1
        lines = self._lines(sk, country)
        is_open = status in OPEN
        if is_open:
            self.stats["open"] += 1

        # What each line has allocated and shipped -------------------------------------------
        n = len(lines)
        nothing_allocated = hold == "stock" and rng.random() < 0.5
        for i, line in enumerate(lines):
            qty = line[1]
            if status in ("delivered", "shipped") or (status == "partially_shipped" and i < n - 1):
                line += [0, qty]
            elif status == "cancelled" or (hold == "stock" and (i == 0 or nothing_allocated)):
                line += [0, 0]
            else:
                line += [qty, 0]
        at_intake = [
            (catalog.skus[p], qty)
            for i, (p, qty, *_rest) in enumerate(lines)
            if not (hold == "stock" and (i == 0 or nothing_allocated))
        ]

        # Money -------------------------------------------------------------------------------
        subtotal = sum(q * price for _p, q, price, *_ in lines)
        tax_total = sum(tax_contained(q * price, r) for _p, q, price, r, *_ in lines)
        shipping = 0
        priority = 1 if ch.code == "webstore" and rng.random() < 0.05 else 0
        if ch.code == "webstore":
            shipping = 1295 if priority else (0 if subtotal >= 5000 else 495)
        elif ch.code == "amazon" and subtotal < 2900:
            shipping = 399
        elif ch.code == "wholesale" and subtotal < 50000:
            shipping = 2500
        total = subtotal + shipping
        method = ref.MARKETPLACE_PAYOUT.get(ch.code) or (
            "bank_transfer" if ch.code == "wholesale" else rng.choice(ref.PAYMENT_METHODS)
        )
        pay_ref = f"{method[:3]}_{rng.getrandbits(40):010x}"
        paid_amount = refunded = 0
        payment_status = "unpaid"
        if sk.part_paid is not None:
            paid_amount = max(1, min(total - 1, total * rng.randint(30, 80) // 100))
            payment_status = "partially_paid"
            rows["payments"].append(
                (
                    self._take("payments"),
                    oid,
                    money(paid_amount),
                    method,
                    pay_ref,
                    t(sk.part_paid),
                    INTAKE.split(":", 1)[1],
                )
            )
        elif sk.paid is not None:
            paid_amount, payment_status = total, "paid"
            rows["payments"].append(
                (self._take("payments"), oid, money(total), method, pay_ref, t(sk.paid), INTAKE.split(":", 1)[1])
            )
        if sk.refunded is not None:
            refunded, payment_status = total, "refunded"
            rows["refunds"].append(
                (
                    self._take("refunds"),
                    oid,
                    None,
                    None,
                    money(total),
                    method,
                    f"re_{rng.getrandbits(40):010x}",
                    "Order cancelled before shipping.",
                    t(sk.refunded),
                    "ops@orderdeck.example",
                )
            )

        # Lines, allocations --------------------------------------------------------------------
        line_ids = []
        n_levels_loc = self.n_locations
        for no, (p, qty, price, tax_rate, allocated, shipped) in enumerate(lines, start=1):
            lid = self._take("order_lines")
            line_ids.append(lid)
            rows["order_lines"].append(
                (
                    lid,
                    oid,
                    no,
                    p + 1,
                    catalog.skus[p],
                    catalog.names[p],
                    qty,
                    money(price),
                    rate(tax_rate),
                    allocated,
                    shipped,
                    0,
                )
            )
            if allocated:
                rows["allocations"].append(
                    (self._take("allocations"), lid, oid, p + 1, loc_id, allocated, t(sk.placed + 1))
                )
                self.reserved[p * n_levels_loc + loc] += allocated

        # Shipments and the stock they took ----------------------------------------------------
        if sk.pick is not None:
            self._shipment(oid, sk, lines, line_ids, loc, rows)

        # SLA clocks ------------------------------------------------------------------------------
        ship_by = self._clocks(oid, sk, loc_id, rows)

        # Audit trail -----------------------------------------------------------------------------
        events = self._events(sk, number, total, paid_amount, method, pay_ref, at_intake, loc_code, lines)
        ev_rows = rows["events"]
        for at, action, before, after, actor, details in events:
            ev_rows.append((self._take("events"), "order", number, action, before, after, None, actor, t(at), details))

        # The order itself ----------------------------------------------------------------------
        ext = external_id(ch.code, oid)
        address_status = "ok"
        if hold == "address":  # the postcode lost a character: it no longer fits the country's format
            postcode, address_status = postcode[:-1], "ambiguous"
        held_by = hold_note = None
        if hold is not None:
            held_by = "ops@orderdeck.example" if hold in ("manual", "payment") else INTAKE.split(":", 1)[1]
            hold_note = ref.HOLD_NOTES[hold]
            if hold == "stock":
                hold_note = f"Waiting for stock: {lines[0][1]} × {catalog.skus[lines[0][0]]}."
        content = hashlib.sha256(f"{ch.code}|{ext}|{total}".encode()).hexdigest()
        rows["orders"].append(
            (
                oid,
                number,
                ch.idx + 1,
                ext,
                cust + 1,
                content,
                "ui" if ch.code == "pos" else "api",
                self.people.names[cust],
                line1,
                line2,
                city,
                region,
                postcode,
                country,
                address_status,
                ref.COUNTRIES[country][1],
                flag(True),
                money(subtotal),
                money(shipping),
                money(tax_total),
                money(total),
                money(paid_amount),
                money(refunded),
                t(sk.placed),
                t(sk.paid),
                t(ship_by),
                t(sk.shipped if status in ("shipped", "delivered") else None),
                t(sk.delivered),
                t(sk.cancelled),
                status,
                payment_status,
                hold,
                t(sk.held),
                held_by,
                hold_note,
                flag(False),
                priority,
                None,
                len(events),
                t(sk.placed),
                t(max(e[0] for e in events)),
            )
        )

    def _shipment(
        self, oid: int, sk: Skeleton, lines: list[list], line_ids: list[int], loc: int, rows: dict[str, list]
    ) -> None:
        t = self.sink.time
        status = {
            "picking": "picking",
            "packed": "packed",
            "partially_shipped": "shipped",
            "shipped": "shipped",
            "delivered": "delivered",
        }[sk.status]
        sid = self._take("shipments")
        carrier = self.rng.choice(CARRIERS_AT[LOCATION_CODES[loc]])
        tracking = None if sk.packed is None else f"{carrier[:2].upper()}{self.rng.getrandbits(40):013d}"
        rows["shipments"].append(
            (
                sid,
                f"SH-{sid:06d}",
                oid,
                loc + 1,
                None,
                status,
                carrier,
                tracking,
                t(sk.pick),
                t(sk.packed),
                t(sk.shipped),
                t(sk.delivered),
            )
        )
        parcel = range(len(lines) - 1) if sk.status == "partially_shipped" else range(len(lines))
        for i in parcel:
            p, qty = lines[i][0], lines[i][1]
            rows["shipment_lines"].append(
                (self._take("shipment_lines"), sid, line_ids[i], qty, 0 if status == "picking" else qty)
            )
            if sk.shipped is not None:
                level = p * self.n_locations + loc
                self.moves.append((sk.shipped, level, -qty, oid, sid))
                self.shipped[level * self.periods + (sk.shipped - self.receipts_start) // RECEIPT_PERIOD] += qty

    def _clock(
        self,
        oid: int,
        kind: str,
        started: int,
        warn: int | None,
        due: int,
        rows: dict[str, list],
        *,
        notice: int | None = None,
        location_id: int | None = None,
        met: int | None = None,
        stopped: int | None = None,
        reason: str = "other",
    ) -> None:
        """One clock as app.services.clocks leaves it: met or stopped before its deadline;
        breached at the deadline when that came first (then met late, or stopped when the order
        ended); running while nothing ended it, past-due ones included (the breach sweep's work)."""
        t = self.sink.time
        end = met if met is not None else stopped
        breached = breach_reason = None
        if end is None:
            state, end = "running", self.now
            self.stats["running_clocks"] += 1
            if due < self.now:
                self.stats["due_clocks"] += 1
        elif end <= due:
            state = "met" if met is not None else "stopped"
        else:
            state, breached, breach_reason = "breached", due, reason
        # the reminder sweeps have run for every moment that passed more than a minute before the end
        warned = warn + MINUTE if warn is not None and warn + MINUTE < end else None
        noticed = notice + MINUTE if notice is not None and notice + MINUTE < end else None
        rows["sla_clocks"].append(
            (
                self._take("sla_clocks"),
                oid,
                kind,
                state,
                t(started),
                t(warn),
                t(due),
                t(warned),
                t(notice),
                t(noticed),
                t(met),
                t(breached),
                t(stopped),
                breach_reason,
                location_id,
            )
        )

    def _clocks(self, oid: int, sk: Skeleton, loc_id: int, rows: dict[str, list]) -> int | None:
        """Payment clock (not for marketplaces), dispatch clock once paid, hold clock for stock/address
        holds, with the deadlines of app.domain.sla. Returns ship_by (the dispatch clock's due time)."""
        ch, placed = sk.channel, sk.placed
        if not ch.marketplace:
            due = placed + ch.payment_due
            ended = {"stopped": sk.cancelled} if sk.cancel_kind in ("auto", "unpaid") else {"met": sk.paid}
            self._clock(
                oid,
                "payment",
                placed,
                placed + 24 * HOUR,
                due,
                rows,
                notice=placed + 48 * HOUR,
                reason="unpaid",
                **ended,
            )
        ship_by = None
        if sk.paid is not None:
            ship_by = sk.paid + ch.sla
            warn = sk.paid + ch.sla * ch.warn_pct // 100
            ended = {}
            if sk.status == "cancelled":
                ended = {"stopped": sk.cancelled}
            elif sk.status in ("shipped", "delivered"):
                ended = {"met": sk.shipped}
            self._clock(oid, "dispatch", sk.paid, warn, ship_by, rows, location_id=loc_id, reason="not_picked", **ended)
        if sk.hold in ("stock", "address"):
            kind = "stock_hold" if sk.hold == "stock" else "address_hold"
            due = sk.held + HOLD_CLOCK_HOURS * HOUR
            notice = sk.held if sk.hold == "address" else None  # the customer is asked at once
            self._clock(oid, kind, sk.held, due - 2 * HOUR, due, rows, notice=notice, location_id=loc_id)
        return ship_by

    def _events(
        self,
        sk: Skeleton,
        number: str,
        total: int,
        paid: int,
        method: str,
        pay_ref: str,
        at_intake: list[tuple[str, int]],
        loc_code: str,
        lines: list[list],
    ) -> list[tuple]:
        """(time, action, from, to, actor, details JSON) in time order, as the services write them."""
        ch, hold, status = sk.channel, sk.hold, sk.status
        ev = [
            (
                sk.placed,
                "order_created",
                None,
                "new",
                INTAKE,
                f'{{"channel": "{ch.code}", "external_id": "{external_id(ch.code, int(number[3:]))}", '
                f'"source": "api", "total": "{amount(total)}"}}',
            )
        ]
        if at_intake:
            moved = ", ".join(f'{{"sku": "{sku}", "location": "{loc_code}", "qty": {q}}}' for sku, q in at_intake)
            short = ""
            if hold == "stock":
                missing = [
                    (self.catalog.skus[p], q)
                    for p, q, _price, _rate, allocated, shipped in lines
                    if allocated == 0 and shipped == 0
                ]
                short = ", ".join(f'"{sku}": {q}' for sku, q in missing)
            ev.append(
                (sk.placed + 1, "allocated", None, None, INTAKE, f'{{"allocations": [{moved}], "short": {{{short}}}}}')
            )
        pay = f'"method": "{method}", "reference": "{pay_ref}"}}'
        if sk.part_paid is not None:
            ev.append(
                (
                    sk.part_paid,
                    "payment_recorded",
                    "unpaid",
                    "partially_paid",
                    INTAKE,
                    f'{{"amount": "{amount(paid)}", {pay}',
                )
            )
        elif sk.paid is not None:
            ev.append((sk.paid, "payment_recorded", "unpaid", "paid", INTAKE, f'{{"amount": "{amount(total)}", {pay}'))
        if sk.ready is not None:
            ev.append((sk.ready, "status_changed", "new", "ready", INTAKE, None))
        if hold is not None:
            before = "ready" if sk.ready is not None else "new"
            actor = OPS if hold in ("manual", "payment") else INTAKE
            ev.append(
                (
                    sk.held,
                    "status_changed",
                    before,
                    "on_hold",
                    actor,
                    f'{{"hold_reason": "{hold}", "note": "{ref.HOLD_NOTES[hold]}"}}',
                )
            )
        steps = [
            (sk.pick, "ready", "picking", OPS),
            (sk.packed, "picking", "packed", OPS),
            (sk.shipped, "packed", "partially_shipped" if status == "partially_shipped" else "shipped", OPS),
            (sk.delivered, "shipped", "delivered", CARRIER_HOOK),
        ]
        for at, before, after, actor in steps:
            if at is not None:
                ev.append((at, "status_changed", before, after, actor, None))
        if sk.cancelled is not None:
            actor = AUTO_CANCEL if sk.cancel_kind == "auto" else OPS
            released = ", ".join(f'{{"sku": "{sku}", "location": "{loc_code}", "qty": {q}}}' for sku, q in at_intake)
            ev.append((sk.cancelled, "allocations_released", None, None, actor, f'{{"released": [{released}]}}'))
            ev.append(
                (
                    sk.cancelled,
                    "status_changed",
                    "ready" if sk.ready is not None else "new",
                    "cancelled",
                    actor,
                    '{"note": "cancelled"}',
                )
            )
        if sk.refunded is not None:
            ev.append((sk.refunded, "refund_recorded", None, None, OPS, f'{{"amount": "{amount(total)}"}}'))
        ev.sort(key=lambda e: e[0])
        return ev
