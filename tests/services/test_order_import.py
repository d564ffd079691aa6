"""Order CSV import: what a person uploading a shop's export would notice, and that an
imported order is the same as one sent through the API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.domain.sla import SlaPolicy
from app.extensions import db
from app.models import (
    Allocation,
    Channel,
    Counter,
    Customer,
    Event,
    Location,
    Order,
    OrderLine,
    Payment,
    Product,
    SlaClock,
    StockLevel,
)
from app.services import catalog, orders, sla_settings
from app.services.order_import import import_orders
from app.services.order_import.assemble import assemble
from app.services.order_import.csvfile import COLUMNS, read
from tests.conftest import _empty_all_tables
from tests.services.conftest import ACTOR, NOW, stock

DEFAULTS = {
    "placed_at": NOW.isoformat(), "customer_name": "Ada Buyer", "customer_email": "ada@example.com",
    "ship_name": "Ada Buyer", "line1": "Damrak 1", "city": "Amsterdam", "postcode": "1011 AB", "country": "NL",
    "sku": "MUG", "qty": "1", "unit_price": "12.50", "shipping_price": "4.95", "currency": "EUR",
}


def row(external_id: str = "A-1", **values) -> dict:
    return {**DEFAULTS, "external_id": external_id, **{k: str(v) for k, v in values.items()}}


def csv_bytes(rows: list[dict], *, delimiter: str = ",", columns=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    return out.getvalue().encode()


def run(data: bytes, **options):
    options.setdefault("now", NOW)
    return import_orders(data, options.pop("channel", "web"), actor=ACTOR, **options)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_dry_run_reports_what_would_happen_and_writes_nothing(shop):
    stock("AMS", "MUG", 10)
    before = {m.__name__: count(m) for m in (Order, Customer, Event, SlaClock, Counter)}
    data = csv_bytes([row("A-1"), row("A-1", sku="TEE", unit_price="25.00"), row("A-2"), row("A-3", sku="NOPE")])
    summary = run(data, dry_run=True)
    assert (summary.orders, summary.lines, summary.duplicates, summary.rejected_rows) == (2, 3, 0, 1)
    assert [n.external_id for n in summary.created] == ["A-1", "A-2"]
    assert [str(e) for e in summary.errors] == ["line 5, sku: Unknown SKU NOPE."]
    assert summary.headline.startswith("Nothing would be imported: 1 row rejected")
    assert not summary.imported
    assert {m.__name__: count(m) for m in (Order, Customer, Event, SlaClock, Counter)} == before
    assert db.session.scalar(select(StockLevel.reserved)) == 0


def test_one_bad_row_imports_nothing_by_default(shop):
    stock("AMS", "MUG", 10)
    data = csv_bytes([row("A-1"), row("A-2", qty="two"), row("A-3", customer_email="not-an-email")])
    summary = run(data)
    assert not summary.imported and summary.blocked
    assert [(e.line, e.column) for e in summary.errors] == [(3, "qty"), (4, "customer_email")]
    assert summary.errors[0].message == "Not a valid integer."
    assert (summary.orders, summary.rejected_orders, summary.rejected_rows) == (1, 2, 2)
    assert count(Order) == 0 and count(Customer) == 0
    assert db.session.scalar(select(StockLevel.reserved)) == 0


def test_skip_invalid_imports_the_valid_orders_and_reports_the_rest(shop):
    stock("AMS", "MUG", 10)
    data = csv_bytes([row("A-1"), row("A-2", qty="0"), row("A-3", placed_at="yesterday")])
    summary = run(data, skip_invalid=True)
    assert summary.imported and not summary.blocked
    assert [n.external_id for n in summary.created] == ["A-1"]
    assert [(e.line, e.column, e.external_id) for e in summary.errors] == [(3, "qty", "A-2"), (4, "placed_at", "A-3")]
    assert "ISO 8601" in summary.errors[1].message
    assert db.session.scalars(select(Order.external_id)).all() == ["A-1"]
    assert summary.headline == "Created 1 order (1 lines); 0 duplicates skipped; 2 rows rejected and left out."


def test_the_same_file_twice_creates_each_order_once(shop):
    stock("AMS", "MUG", 10)
    data = csv_bytes([row("A-1"), row("A-2", paid_amount="17.45")])
    first = run(data)
    again = run(data)
    assert (first.orders, first.duplicates) == (2, 0)
    assert (again.orders, again.duplicates, again.rejected_rows, again.imported) == (0, 2, 0, False)
    assert sorted((n.external_id, n.number) for n in again.skipped) == [("A-1", "SO-000001"), ("A-2", "SO-000002")]
    assert count(Order) == 2


def test_an_order_already_received_through_the_api_is_a_duplicate(shop):
    stock("AMS", "MUG", 10)
    data = csv_bytes([row("A-1")])
    body = assemble(read(data).rows, "web", timezone="Europe/Amsterdam")[0].body
    api_order, _ = orders.create_order(body, actor=ACTOR, now=NOW)
    summary = run(data)
    assert (summary.duplicates, summary.orders) == (1, 0)
    assert summary.skipped[0].number == api_order.number


def test_same_key_with_different_content_is_rejected(shop):
    stock("AMS", "MUG", 10)
    run(csv_bytes([row("A-1")]))
    summary = run(csv_bytes([row("A-1", qty=3), row("A-2")]), skip_invalid=True)
    assert [(e.line, e.column) for e in summary.errors] == [(2, "external_id")]
    assert "already imported with different content (as SO-000001)" in summary.errors[0].message
    assert [n.external_id for n in summary.created] == ["A-2"]
    assert db.session.scalar(select(OrderLine.qty).join(Order).where(Order.external_id == "A-1")) == 1


def test_a_european_spreadsheet_export_is_read_as_meant(shop):
    stock("AMS", "MUG", 10)
    stock("AMS", "TEE", 10)
    header = ";".join(COLUMNS)
    data = (
        "\ufeff" + header + "\r\n"
        'EU-1;2026-03-02 08:00;"José Müller";jose@example.com;"José Müller";"Keizersgracht 1; achterhuis";'
        '"Étage 2, ""links""";Amsterdam;;1011 AB;NL;MUG;2;12,50;4,95;EUR;"54,95"\r\n'
        'EU-1;2026-03-02 08:00;"José Müller";jose@example.com;"José Müller";"Keizersgracht 1; achterhuis";'
        '"Étage 2, ""links""";Amsterdam;;1011 AB;NL;TEE;1;"25,00";4,95;EUR;54,95\r\n'
        "EU-2;2026-03-02T09:30:00+01:00;Zoë;zoe@example.com;Zoë;Damrak 2;;Amsterdam;;1011AB;nl;MUG;1;1.012,50;;;\r\n"
    ).encode("utf-8")
    summary = run(data, skip_invalid=True)
    assert summary.total_rows == 3
    eu1 = db.session.scalar(select(Order).where(Order.external_id == "EU-1"))
    assert (eu1.ship_line1, eu1.ship_line2) == ("Keizersgracht 1; achterhuis", 'Étage 2, "links"')
    assert eu1.customer.name == "José Müller"
    assert [(ln.sku, ln.qty, ln.unit_price) for ln in eu1.lines] == [("MUG", 2, Decimal("12.50")),
                                                                     ("TEE", 1, Decimal("25.00"))]
    assert (eu1.total, eu1.paid_amount, eu1.payment_status, eu1.status) == (
        Decimal("54.95"), Decimal("54.95"), "paid", "ready")
    assert eu1.placed_at == NOW - timedelta(hours=2)  # 08:00 in Amsterdam (no offset given) is 07:00 UTC
    # 1.012,50 is 1012.50: far from the catalog's 12.50, so the order waits for a price review.
    eu2 = db.session.scalar(select(Order).where(Order.external_id == "EU-2"))
    assert (eu2.lines[0].unit_price, eu2.hold_reason, eu2.ship_country) == (Decimal("1012.50"), "review", "NL")


def test_a_file_saved_by_excel_as_windows_1252_is_read_with_a_warning(shop):
    stock("AMS", "MUG", 10)
    data = csv_bytes([row("X-1", customer_name="José Müller")]).decode().encode("cp1252")
    summary = run(data)
    assert summary.imported and "Windows-1252" in summary.warnings[0]
    assert db.session.scalar(select(Customer.name)) == "José Müller"


def test_rows_sharing_an_external_id_are_one_order_wherever_they_are(shop):
    stock("AMS", "MUG", 10)
    stock("AMS", "TEE", 10)
    data = csv_bytes([row("M-1"), row("M-2"), row("M-1", sku="TEE", unit_price="25.00", qty=2),
                      row("M-1", sku="MUG", qty=3, customer_name="", line1="")])
    summary = run(data)
    assert (summary.orders, summary.lines) == (2, 4)
    order = db.session.scalar(select(Order).where(Order.external_id == "M-1"))
    assert [(ln.line_no, ln.sku, ln.qty) for ln in order.lines] == [(1, "MUG", 1), (2, "TEE", 2), (3, "MUG", 3)]
    assert order.total == Decimal("104.95")


def test_order_level_columns_that_disagree_reject_the_order(shop):
    stock("AMS", "MUG", 10)
    data = csv_bytes([row("D-1"), row("D-1", sku="TEE", unit_price="25.00", customer_email="other@example.com"),
                      row("D-2")])
    summary = run(data, skip_invalid=True)
    assert [(e.line, e.column) for e in summary.errors] == [(3, "customer_email")]
    assert "other@example.com" in summary.errors[0].message and "line 2" in summary.errors[0].message
    assert (summary.rejected_orders, summary.rejected_rows, summary.orders) == (1, 2, 1)


def test_the_oldest_orders_get_the_stock_whatever_the_file_order(shop):
    stock("AMS", "MUG", 1)
    data = csv_bytes([row("LATE", placed_at=(NOW + timedelta(hours=1)).isoformat()),
                      row("EARLY", placed_at=(NOW - timedelta(hours=1)).isoformat())])
    run(data)
    placed = db.session.execute(select(Order.external_id, Order.number, Order.status, Order.hold_reason)
                                .order_by(Order.number)).all()
    assert placed == [("EARLY", "SO-000001", "new", None), ("LATE", "SO-000002", "on_hold", "stock")]


def test_file_level_problems_are_explained(shop):
    no_header = run(b"A-1,2026-03-02,Ada\n")
    assert not no_header.imported and no_header.file_errors
    assert "lacks the columns" in no_header.file_errors[0].message
    unknown_channel = run(csv_bytes([row()]), channel="nope")
    assert unknown_channel.file_errors[0].message == "There is no active sales channel “nope”."
    empty = run(b"")
    assert empty.file_errors[0].message == "The file is empty."
    assert count(Order) == 0


def test_a_payment_above_the_total_is_a_row_error(shop):
    stock("AMS", "MUG", 1)
    summary = run(csv_bytes([row("P-1", paid_amount="100")]))
    assert [(e.line, e.column) for e in summary.errors] == [(2, "paid_amount")]
    assert "more than the 17.45 still due" in summary.errors[0].message


def test_numbers_continue_after_orders_from_the_api(shop):
    stock("AMS", "MUG", 10)
    data = csv_bytes([row("N-1")])
    body = assemble(read(data).rows, "web", timezone="Europe/Amsterdam")[0].body
    orders.create_order({**body, "external_id": "API-1"}, actor=ACTOR, now=NOW)
    run(csv_bytes([row("N-1"), row("N-2")]))
    orders.create_order({**body, "external_id": "API-2"}, actor=ACTOR, now=NOW)
    assert db.session.scalars(select(Order.external_id).order_by(Order.number)).all() == [
        "API-1", "N-1", "N-2", "API-2"]


def test_the_import_is_audited(shop):
    stock("AMS", "MUG", 10)
    run(csv_bytes([row("E-1")]), filename="export.csv")
    created = db.session.scalar(select(Event).where(Event.action == "order_created"))
    assert created.details == {"channel": "web", "external_id": "E-1", "source": "csv", "total": "17.45"}
    imported = db.session.scalar(select(Event).where(Event.action == "orders_imported"))
    assert (imported.entity_id, imported.details["created"]) == ("export.csv", 1)


# Equivalence with the single-order intake -------------------------------------------------------


def _catalog_and_stock() -> None:
    """tests/services/conftest.shop, plus stock and a customer who bought before."""
    catalog.create_channel(code="web", name="Web store", actor=ACTOR)
    catalog.create_location(code="AMS", name="Amsterdam", regions=["NL", "BE"], priority=1,
                            timezone="Europe/Amsterdam", actor=ACTOR)
    catalog.create_location(code="LEJ", name="Leipzig", regions=["DE", "AT"], priority=2,
                            timezone="Europe/Berlin", actor=ACTOR)
    for sku, price in (("MUG", "12.50"), ("TEE", "25.00"), ("CAP", "15.00")):
        catalog.create_product(sku=sku, name=sku.title(), unit_price=Decimal(price), actor=ACTOR)
    for location, sku, qty in (("AMS", "MUG", 3), ("AMS", "TEE", 1), ("LEJ", "TEE", 2), ("LEJ", "CAP", 1)):
        stock(location, sku, qty)
    orders.upsert_customer("old@example.com", "Old Name")
    db.session.commit()


def _at(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat()


EQUIVALENCE_ROWS = [
    # paid in full: ready, payment clock met, dispatch clock running
    row("E-1", placed_at=_at(-5), paid_amount="17.45"),
    # unpaid, split over two locations
    row("E-2", placed_at=_at(-4), customer_email="bo@example.com", customer_name="Bo"),
    row("E-2", placed_at=_at(-4), customer_email="bo@example.com", customer_name="Bo", sku="TEE", qty=2,
        unit_price="25.00"),
    # short of stock: on hold (stock), hold clock on Leipzig's calendar
    row("E-3", placed_at=_at(-3), country="DE", postcode="04109", city="Leipzig", sku="CAP", qty=2,
        unit_price="15.00", customer_email="OLD@example.com", customer_name="New Name"),
    # postcode that cannot be Dutch: on hold (address)
    row("E-4", placed_at=_at(-2), postcode="ABC"),
    # price far below the catalog, partly paid: on hold (review)
    row("E-5", placed_at=_at(-1.5), unit_price="5.00", paid_amount="2.00"),
    # the same new customer again (keeps the first name), shipped from where stock is left
    row("E-6", placed_at=_at(-1), country="BE", postcode="1000", city="Brussel", sku="TEE", unit_price="25.00",
        customer_email="bo@example.com", customer_name="Robert"),
    # placed "in the future" and paid: the payment counts from now
    row("E-7", placed_at=_at(2), sku="CAP", unit_price="15.00", paid_amount="19.95", shipping_price="4.95"),
    # free shipping, no currency given: the default currency
    row("E-8", placed_at=_at(3), sku="TEE", unit_price="25.00", shipping_price="", currency=""),
]


def _clock(clock: SlaClock) -> dict:
    """Every column of a clock (new ones included), with the location by code."""
    fields = {c.key: getattr(clock, c.key) for c in SlaClock.__table__.columns if c.key not in ("id", "order_id")}
    if fields.get("location_id") is not None:
        fields["location_id"] = db.session.get(Location, fields["location_id"]).code
    return fields


def _snapshot() -> dict:
    db.session.expire_all()
    result = {}
    for order in db.session.scalars(select(Order).order_by(Order.number)):
        fields = {c.key: getattr(order, c.key) for c in Order.__table__.columns
                  # Ids differ by construction and created/updated_at are wall-clock times. The
                  # optimistic-lock version counts create_order's internal ORM flushes (1 to 4);
                  # a bulk-inserted order starts at 1, which any later edit checks the same way.
                  if c.key not in ("id", "channel_id", "customer_id", "created_at", "updated_at", "version")}
        fields["channel"] = db.session.get(Channel, order.channel_id).code
        fields["customer"] = (order.customer.email, order.customer.name)
        fields["lines"] = [{c.key: getattr(ln, c.key) for c in OrderLine.__table__.columns
                            if c.key not in ("id", "order_id")} for ln in order.lines]
        fields["allocations"] = sorted(db.session.execute(
            select(Product.sku, Location.code, Allocation.qty)
            .join(Product, Product.id == Allocation.product_id).join(Location, Location.id == Allocation.location_id)
            .where(Allocation.order_id == order.id)).all())
        fields["payments"] = db.session.execute(
            select(Payment.amount, Payment.method, Payment.reference, Payment.received_at, Payment.created_by)
            .where(Payment.order_id == order.id).order_by(Payment.id)).all()
        fields["clocks"] = sorted(
            (_clock(clock) for clock in db.session.scalars(select(SlaClock).where(SlaClock.order_id == order.id))),
            key=lambda c: c["kind"])
        fields["events"] = [
            (e.action, e.from_state, e.to_state, e.actor, e.user_id, e.details,
             None if e.action == "allocated" else e.created_at)  # allocation events carry the wall-clock time
            for e in db.session.scalars(select(Event).where(Event.entity_type == "order",
                                                            Event.entity_id == order.number).order_by(Event.id))
        ]
        result[order.number] = fields
    result["customers"] = db.session.execute(select(Customer.email, Customer.name).order_by(Customer.email)).all()
    result["stock"] = db.session.execute(
        select(Product.sku, Location.code, StockLevel.on_hand, StockLevel.reserved)
        .join(Product, Product.id == StockLevel.product_id).join(Location, Location.id == StockLevel.location_id)
        .order_by(Product.sku, Location.code)).all()
    return result


def _fresh_database(app) -> None:
    db.session.remove()
    _empty_all_tables(app.config["SQLALCHEMY_DATABASE_URI"])


def test_an_imported_order_is_exactly_an_order_created_through_the_api(app):
    data = csv_bytes(EQUIVALENCE_ROWS)
    _catalog_and_stock()
    summary = run(data)
    assert summary.imported and summary.orders == 8
    imported = _snapshot()

    _fresh_database(app)
    _catalog_and_stock()
    drafts = assemble(read(data).rows, "web", timezone=app.config["TIMEZONE"])
    for draft in sorted(drafts, key=lambda d: (d.body.get("placed_at") or NOW, d.first_line)):
        orders.create_order(draft.body, actor=ACTOR, source="csv", now=NOW)
    one_by_one = _snapshot()

    assert imported.keys() == one_by_one.keys()
    for key in imported:
        assert imported[key] == one_by_one[key], key
    # And the scenario covers what it claims to.
    outcome = {n: (o["external_id"], o["status"], o["hold_reason"], o["payment_status"])
               for n, o in imported.items() if n.startswith("SO-")}
    assert sorted(outcome.values()) == [
        ("E-1", "ready", None, "paid"), ("E-2", "new", None, "unpaid"), ("E-3", "on_hold", "stock", "unpaid"),
        ("E-4", "on_hold", "address", "unpaid"), ("E-5", "on_hold", "review", "partially_paid"),
        ("E-6", "new", None, "unpaid"), ("E-7", "on_hold", "stock", "paid"), ("E-8", "on_hold", "stock", "unpaid"),
    ]
    e2 = next(o for o in imported.values() if isinstance(o, dict) and o["external_id"] == "E-2")
    assert e2["allocations"] == [("MUG", "AMS", 1), ("TEE", "AMS", 1), ("TEE", "LEJ", 1)]


# The same orders by CSV and through the API: the same SLA clocks -------------------------------


def _warehouses_with_business_hours() -> None:
    """Dispatch counted in business hours, and two warehouses whose days differ: Amsterdam
    ships until 16:00, Leipzig until 14:00; TEE is stocked in Leipzig only, CAP nowhere."""
    catalog.create_channel(code="web", name="Web store", actor=ACTOR)
    sla_settings.update_channel_policy("web", SlaPolicy(dispatch_sla_hours=16, dispatch_business_hours=True),
                                       actor=ACTOR)
    catalog.create_location(code="AMS", name="Amsterdam", regions=["NL", "BE"], priority=1,
                            timezone="Europe/Amsterdam", actor=ACTOR)
    catalog.create_location(code="LEJ", name="Leipzig", regions=["DE", "AT"], priority=2,
                            timezone="Europe/Berlin", cutoff_time="14:00", actor=ACTOR)
    for sku, price in (("MUG", "12.50"), ("TEE", "25.00"), ("CAP", "15.00")):
        catalog.create_product(sku=sku, name=sku.title(), unit_price=Decimal(price), actor=ACTOR)
    for location, sku, qty in (("AMS", "MUG", 5), ("LEJ", "MUG", 5), ("LEJ", "TEE", 2)):
        stock(location, sku, qty)
    db.session.commit()


LEIPZIG = {"country": "DE", "postcode": "04109", "city": "Leipzig"}
CLOCK_ROWS = [
    # paid: the dispatch clock runs on the calendar of the warehouse that ships it
    row("C-1", paid_amount="17.45"),
    row("C-2", paid_amount="17.45", **LEIPZIG),
    row("C-3", sku="TEE", unit_price="25.00", paid_amount="29.95"),  # a Dutch address served from Leipzig
    # unpaid: payment clock with both reminders
    row("C-4", placed_at=_at(-2)),
    # held: for stock (nothing anywhere: the best-priority warehouse's day), for the address
    row("C-5", sku="CAP", unit_price="15.00"),
    row("C-6", **{**LEIPZIG, "postcode": "0410"}),
]


def _api_body(r: dict) -> dict:
    return {
        "channel": "web", "external_id": r["external_id"], "placed_at": r["placed_at"],
        "customer": {"name": r["customer_name"], "email": r["customer_email"]},
        "ship_to": {"name": r["ship_name"], "line1": r["line1"], "city": r["city"], "postcode": r["postcode"],
                    "country": r["country"]},
        "lines": [{"sku": r["sku"], "qty": int(r["qty"]), "unit_price": r["unit_price"]}],
        "shipping_price": r["shipping_price"], "currency": r["currency"],
    }


def _clocks_by_order() -> dict[str, list[dict]]:
    db.session.expire_all()
    return {
        order.external_id: sorted((_clock(c) for c in db.session.scalars(
            select(SlaClock).where(SlaClock.order_id == order.id))), key=lambda c: c["kind"])
        for order in db.session.scalars(select(Order))
    }


def test_orders_imported_by_csv_get_the_clocks_the_api_gives_the_same_orders(app, api, monkeypatch):
    # Through the API, as a shop's connector sends them: the order, then (when paid) its
    # payment, all at NOW.
    monkeypatch.setattr(orders, "utcnow", lambda: NOW)
    _warehouses_with_business_hours()
    for r in CLOCK_ROWS:
        created = api.post("/api/v1/orders", json=_api_body(r))
        assert created.status_code == 201, created.json
        if r.get("paid_amount"):
            paid = api.post(f"/api/v1/orders/{created.json['number']}/payments",
                            json={"amount": r["paid_amount"], "method": "card", "reference": r["external_id"]})
            assert paid.status_code == 201, paid.json
    through_api = _clocks_by_order()

    # The same rows as one CSV file, imported at NOW.
    _fresh_database(app)
    _warehouses_with_business_hours()
    summary = run(csv_bytes(CLOCK_ROWS))
    assert summary.imported and summary.orders == len(CLOCK_ROWS)
    imported = _clocks_by_order()

    assert imported.keys() == through_api.keys()
    for external_id in through_api:
        assert imported[external_id] == through_api[external_id], external_id
    # What the ops page shows for the Leipzig orders: 16 business hours from Monday 10:00 in
    # Leipzig (4 h on Monday, 6 h each on Tuesday and Wednesday) end at Wednesday's 14:00
    # cut-off there, 13:00 UTC; on Amsterdam's 8-hour days it would be Wednesday 09:00 UTC.
    dispatch = {eid: next(c for c in clocks if c["kind"] == "dispatch")
                for eid, clocks in imported.items() if any(c["kind"] == "dispatch" for c in clocks)}
    assert {eid: (c["location_id"], c["due_at"]) for eid, c in dispatch.items()} == {
        "C-1": ("AMS", NOW + timedelta(hours=48)), "C-2": ("LEJ", NOW + timedelta(hours=52)),
        "C-3": ("LEJ", NOW + timedelta(hours=52)),
    }
    holds = {eid: [(c["kind"], c["location_id"]) for c in clocks if c["kind"].endswith("_hold")]
             for eid, clocks in imported.items()}
    assert (holds["C-5"], holds["C-6"]) == ([("stock_hold", "AMS")], [("address_hold", "LEJ")])
