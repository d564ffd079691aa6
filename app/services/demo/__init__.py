"""Realistic demo data: `flask demo seed [--orders N] [--seed S]`.

One user per role, four sales channels, four locations in three countries'
time zones, ~200 products with uneven stock, and N orders spread over every
status of the board, with the shipments, waves, stock ledger, payments,
invoices, SLA clocks and audit events they would have left behind.

The same seed gives the same data; only the reference "now" (the current
hour, UTC) moves with the clock: every time is an offset from it. A second run changes nothing. Everything
except the users (created through app.services.users, which commits each)
is written in one transaction with bulk inserts.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from app.domain.order_states import HoldReason, OrderStatus
from app.extensions import db
from app.models import Channel
from app.services import users
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.demo import reference as ref
from app.services.demo.catalog import build_catalog
from app.services.demo.invoices import plan_invoices
from app.services.demo.orders import OrderBuilder, draw_statuses
from app.services.demo.people import People
from app.services.demo.plans import OrderPlan
from app.services.demo.returns import seed_returns
from app.services.demo.store import World, write
from app.services.demo.warehouse import plan_waves, settle_stock
from app.services.tx import begin_write

DEMO_ACTOR = Actor(label="demo")
# (role, name, password): printed by the command so a new installation can sign in at once.
DEMO_USERS = [
    ("admin", "Noor Visser", "admin-demo-pass"),
    ("ops", "Daan Bakker", "ops-demo-pass"),
    ("finance", "Eva Smit", "finance-demo-pass"),
    ("manager", "Lars de Boer", "manager-demo-pass"),
]


def demo_email(role: str) -> str:
    # .example is reserved (RFC 2606) and accepted by the e-mail check; .local is not.
    return f"{role}@orderdeck.example"


def seed(n_orders: int = 3000, seed: int = 42) -> list[str]:
    """Load the demo data once; the lines returned are what the command prints."""
    if _already_seeded():
        return _already_loaded()
    _ensure_users()
    world = build_world(n_orders, seed, anchor=datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    session = begin_write()
    if _already_seeded():  # another process seeded while we were building
        session.rollback()
        return _already_loaded()
    try:
        write(session, world, seller_name=current_app.config["SELLER_NAME"])
        record_event("demo", f"seed-{seed}", "demo_seeded", actor=DEMO_ACTOR,
                     details={"orders": n_orders, "seed": seed, "anchor": world.anchor.isoformat()})
        session.commit()
    except Exception:
        session.rollback()  # all or nothing: a later run starts from a clean slate
        raise
    seed_returns(seed, anchor=world.anchor)
    return [*_summary(world, seed), *_credential_lines()]


def build_world(n_orders: int, seed: int, *, anchor: datetime) -> World:
    """Everything in memory, deterministic for (n_orders, seed); nothing touches the database."""
    rng = random.Random(seed)
    catalog = build_catalog(rng, anchor)
    people = People(rng)
    builder = OrderBuilder(rng, anchor, catalog, people)
    orders = [builder.build(status, hold) for status, hold in draw_statuses(rng, n_orders)]
    orders.sort(key=lambda o: o.placed_at)  # numbers and external ids follow the order of placing
    _external_ids(orders, rng)
    waves = plan_waves(orders, rng)
    settle_stock(catalog, orders, anchor, rng)
    invoices = plan_invoices(orders)
    customers: dict[int, object] = {}
    for o in orders:
        customers.setdefault(id(o.customer), o.customer)
    for c in people.customers:  # shops that have not ordered yet
        customers.setdefault(id(c), c)
    return World(anchor=anchor, catalog=catalog, customers=list(customers.values()), orders=orders, waves=waves,
                 invoices=invoices)


def _external_ids(orders: list[OrderPlan], rng: random.Random) -> None:
    """Each channel's own order-id format, unique per channel."""
    web, bol, seen, po = 100_000, 1_042_000_000, {}, Counter()
    for o in orders:
        code = o.channel["code"]
        if code == "webstore":
            web += 1
            o.external_id = f"WEB-{web}"
        elif code == "bol":
            bol += rng.randint(3, 40)
            o.external_id = str(bol)
        elif code == "amazon":
            while True:
                candidate = f"{rng.choice(['028', '171', '302', '303', '305'])}-{rng.randint(10**6, 10**7 - 1)}-" \
                            f"{rng.randint(10**6, 10**7 - 1)}"
                if candidate not in seen:
                    seen[candidate] = None
                    break
            o.external_id = candidate
        else:
            initials = "".join(w[0] for w in o.customer.name.split() if w[0].isalpha()).upper()
            po[initials] += 1
            o.external_id = f"PO-{initials}-{1000 + po[initials]}"


def _already_seeded() -> bool:
    found = db.session.scalar(select(Channel.id).where(Channel.code == ref.MARKER_CHANNEL)) is not None
    db.session.rollback()  # end the read so a write transaction can start cleanly
    return found


def _already_loaded() -> list[str]:
    return [f"Demo data is already loaded (channel “{ref.MARKER_CHANNEL}” exists); nothing was changed.",
            *_credential_lines()]


def _ensure_users() -> None:
    for role, name, password in DEMO_USERS:
        if users.find_by_email(demo_email(role)) is None:
            users.create_user(email=demo_email(role), name=name, role=role, password=password, actor=DEMO_ACTOR)
    db.session.rollback()


def _credential_lines() -> list[str]:
    return ["Demo sign-ins (demo passwords: change them on any shared server):",
            *(f"  {demo_email(role)} / {password}  ({role})" for role, _, password in DEMO_USERS)]


def _summary(world: World, seed: int) -> list[str]:
    orders, catalog = world.orders, world.catalog
    statuses = Counter(o.status for o in orders)
    holds = Counter(o.hold_reason for o in orders if o.hold_reason)
    n_shipments = sum(len(o.shipments) for o in orders)
    return [
        f"Demo data loaded (seed {seed}): {len(orders):,} orders over the 60 days before "
        f"{world.anchor:%Y-%m-%d %H:%M} UTC.",
        f"  {len(catalog.products)} products, {len(catalog.levels)} stock levels at "
        f"{', '.join(catalog.locations)}; channels {', '.join(catalog.channels)}.",
        "  orders: " + (", ".join(f"{s} {statuses[s]:,}" for s in OrderStatus.values() if statuses[s]) or "none"),
        "  holds: " + (", ".join(f"{h} {holds[h]:,}" for h in HoldReason.values() if holds[h]) or "none"),
        f"  {len(world.customers):,} customers, {n_shipments:,} shipments in {len(world.waves):,} waves, "
        f"{len(world.invoices):,} invoices.",
    ]
