"""The SLA section as a manager meets it: what is at risk or breached now, compliance by
channel, location and week with its chart, reports, the outbox, CSV exports; and the
admin pages for channel SLA settings and location calendars."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import render_template_string
from sqlalchemy import select

from app.models import Channel, Event, Location, LocationHoliday, Notification, Order, Shipment, SlaClock
from app.services import notifications
from app.services.tx import begin_write
from jobs.scheduler import tick
from tests.factories import make_channel, make_location, make_order

H = timedelta(hours=1)
HX = {"HX-Request": "true"}


def save(db, *rows):
    begin_write()
    db.session.add_all(rows)
    db.session.commit()
    return rows


def clock(order, kind="dispatch", *, due, warn=None, state="running", location=None, **fields) -> SlaClock:
    return SlaClock(order_id=order.id, kind=kind, state=state, started_at=due - 72 * H, warn_at=warn, due_at=due,
                    location_id=location.id if location else None, **fields)


def rows_of(body: str, testid: str) -> list[str]:
    """Order numbers of the rows with this data-testid, in page order."""
    return re.findall(rf'data-testid="{testid}"[^>]*>\s*<td><a [^>]*>(SO-\d+)</a>', body)


def parse_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def scene(db):
    """Two channels and two locations with clocks in every state, as of the real now."""
    now = datetime.now(UTC)
    web, b2b = make_channel("WEB"), make_channel("B2B")
    ams, lej = make_location("AMS"), make_location("LEJ")
    o = {name: make_order(channel=web if i % 2 == 0 else b2b, placed_at=now - 100 * H)
         for i, name in enumerate(["soon", "later", "calm", "overdue", "open", "late_met", "stopped"])}
    save(db,
         clock(o["soon"], due=now + H, warn=now - H, location=ams),
         clock(o["later"], due=now + 5 * H, warn=now - 2 * H, location=lej),
         clock(o["calm"], due=now + 30 * H, warn=now + 10 * H, location=ams),
         clock(o["overdue"], due=now - 2 * H, warn=now - 10 * H, location=ams),
         clock(o["open"], due=now - 20 * H, warn=now - 30 * H, state="breached", breached_at=now - 20 * H,
               breach_reason="on_hold:stock", location=lej),
         clock(o["late_met"], due=now - 30 * H, state="breached", breached_at=now - 30 * H, met_at=now - 25 * H,
               breach_reason="not_picked", location=ams),
         clock(o["stopped"], due=now - 40 * H, state="breached", breached_at=now - 40 * H, stopped_at=now - 39 * H,
               breach_reason="not_picked", location=ams))
    return {k: v.number for k, v in o.items()} | {"now": now}


# Who may see it --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/sla/", "/sla/reports", "/sla/outbox", "/sla/export/compliance.csv",
                                 "/sla/reports/sales.csv"])
def test_the_sla_section_is_for_managers_and_admins(login, url):
    assert login("manager").get(url).status_code == 200
    assert login("admin").get(url).status_code == 200
    assert login("ops").get(url).status_code == 403
    assert login("finance").get(url).status_code == 403


def test_sla_pages_open_on_an_empty_database(login):
    client = login("manager")
    body = client.get("/sla/").get_data(as_text=True)
    assert "Nothing is at risk right now." in body and "No unresolved breaches." in body
    assert "No clock was settled in these weeks." in body
    assert "No orders were placed in this period." in client.get("/sla/reports").get_data(as_text=True)
    assert "No notifications match these filters." in client.get("/sla/outbox").get_data(as_text=True)


# At risk, breached ------------------------------------------------------------------------


def test_at_risk_and_breached_now_sorted_by_time_left(login, scene):
    client = login("manager")
    body = client.get("/sla/").get_data(as_text=True)
    assert rows_of(body, "risk-row") == [scene["soon"], scene["later"]]
    # Unresolved breaches and running clocks past due; not the one met late or the cancelled one.
    assert rows_of(body, "breach-row") == [scene["open"], scene["overdue"]]
    breach = body[body.index(f">{scene['open']}</a>"):].split("</tr>")[0]
    assert "on hold for stock" in breach and "LEJ" in breach and 'data-tone="bad"' in breach
    assert "awaiting the next sweep" in body[body.index(f">{scene['overdue']}</a>"):].split("</tr>")[0]
    risk = body[body.index('data-testid="risk-row"'):].split("</tr>")[0]
    assert 'data-tone="warn"' in risk and "due in" in risk

    most_first = client.get("/sla/?sort=-left").get_data(as_text=True)
    assert rows_of(most_first, "risk-row") == [scene["later"], scene["soon"]]
    assert rows_of(most_first, "breach-row") == [scene["overdue"], scene["open"]]
    assert rows_of(client.get("/sla/?kind=payment").get_data(as_text=True), "risk-row") == []


def test_load_more_continues_one_list(login, db, scene, app):
    app.config["PAGE_SIZE"] = 1
    client = login("manager")
    body = client.get("/sla/").get_data(as_text=True)
    assert rows_of(body, "risk-row") == [scene["soon"]]
    more = re.search(r'href="(/sla/\?risk_cursor=[^"]+)"', body).group(1).replace("&amp;", "&")
    fragment = client.get(more, headers=HX).get_data(as_text=True)
    assert "<html" not in fragment
    assert re.findall(r">(SO-\d+)</a>", fragment) == [scene["later"]]
    # Without JavaScript the same link opens the page with that list moved on.
    page = client.get(more).get_data(as_text=True)
    assert rows_of(page, "risk-row") == [scene["later"]] and rows_of(page, "breach-row") == [scene["open"]]


def test_csv_exports_of_the_lists(login, scene):
    client = login("manager")
    at_risk = parse_csv(client.get("/sla/export/at_risk.csv"))
    assert at_risk[0][:3] == ["order", "kind", "state"]
    assert [r[0] for r in at_risk[1:]] == [scene["soon"], scene["later"]]
    breached = parse_csv(client.get("/sla/export/breached.csv"))
    assert [r[0] for r in breached[1:]] == [scene["open"], scene["overdue"]]
    assert breached[1][-1] == "on hold for stock"
    assert client.get("/sla/export/everything.csv").status_code == 404


# Compliance ------------------------------------------------------------------------------


def test_compliance_by_channel_location_and_week_with_chart(login, db):
    now = datetime.now(UTC)
    web, b2b = make_channel("WEB"), make_channel("B2B")
    ams = make_location("AMS")
    rows = []
    for i, (ch, state, weeks_ago) in enumerate([(web, "met", 0), (web, "met", 0), (web, "breached", 0),
                                               (b2b, "met", 1), (b2b, "breached", 3), (web, "stopped", 0),
                                               (web, "met", 9)]):
        order = make_order(channel=ch, placed_at=now - 10 * H)
        due = now - timedelta(weeks=weeks_ago) - timedelta(minutes=i + 1)
        extra = {"met_at": due - H} if state == "met" else (
            {"breached_at": due, "breach_reason": "packed_not_shipped"} if state == "breached" else {"stopped_at": due})
        rows.append(clock(order, due=due, state=state, location=ams if ch is web else None, **extra))
    save(db, *rows)
    client = login("manager")
    body = client.get("/sla/").get_data(as_text=True)

    def row(testid):
        cells = re.search(rf'data-testid="{re.escape(testid)}">(.*?)</tr>', body, re.S).group(1)
        return re.findall(r'<td class="num">([^<]*)</td>', cells)

    # Deadlines this week may fall on Monday before "now"; the week of 9 weeks ago is out of range.
    assert row("compliance-channel-WEB") == ["2", "1", "66.7"]
    assert row("compliance-channel-B2B") == ["1", "1", "50"]
    assert row("compliance-location-AMS") == ["2", "1", "66.7"]
    assert row("compliance-location-—") == ["1", "1", "50"]
    assert 'data-testid="compliance-total">60 %<' in body
    weeks = re.findall(r'data-testid="chart-week" data-week="(W\d\d)" data-met="(\d+)" data-breached="(\d+)"', body)
    assert len(weeks) == 8
    assert sum(int(m) for _, m, _ in weeks) == 3 and sum(int(b) for _, _, b in weeks) == 2
    assert "<svg" in body and "<script" not in body.split("<svg")[1].split("</svg>")[0]
    reasons = body[body.index('id="breach-reasons"'):].split("</table>")[0]
    assert "packed, not shipped" in reasons and ">2<" in reasons

    exported = parse_csv(client.get("/sla/export/compliance.csv"))
    assert exported[0] == ["week", "channel", "location", "met_on_time", "breached", "compliance_pct"]
    assert sum(int(r[3]) for r in exported[1:]) == 3 and sum(int(r[4]) for r in exported[1:]) == 2

    only_payment = client.get("/sla/?kind=payment").get_data(as_text=True)
    assert "No clock was settled in these weeks." in only_payment


# Scheduler health ----------------------------------------------------------------------------


def test_sla_page_shows_the_scheduler_and_warns_when_it_stopped(app, login):
    client = login("manager")
    assert "The scheduler has never run" in client.get("/sla/").get_data(as_text=True)
    tick(app, datetime.now(UTC) - H)
    stale = client.get("/sla/").get_data(as_text=True)
    assert "has not reported for 60 minutes" in stale
    assert 'data-testid="job-dispatch_sla"' in stale and "nothing due" in stale
    tick(app)
    fresh = client.get("/sla/").get_data(as_text=True)
    assert 'data-testid="scheduler-banner"' not in fresh


# Reports -------------------------------------------------------------------------------------


def test_reports_of_orders_revenue_lead_time_and_holds(login, db):
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    if datetime.now(UTC) < today:
        today -= timedelta(days=1)
    web, b2b = make_channel("WEB"), make_channel("B2B")
    ams, lej = make_location("AMS"), make_location("LEJ")
    a = make_order(channel=web, placed_at=today - 24 * H, paid_at=today - 24 * H, status="shipped")
    b = make_order(channel=web, placed_at=today - 24 * H, paid_at=today - 23 * H, status="shipped")
    make_order(channel=web, placed_at=today, status="cancelled")
    d = make_order(channel=b2b, placed_at=today, paid_at=today)
    save(db,
         Shipment(number="SH-000001", order_id=a.id, location_id=ams.id, status="shipped", shipped_at=today - 14 * H),
         Shipment(number="SH-000002", order_id=a.id, location_id=lej.id, status="shipped", shipped_at=today - 2 * H),
         Shipment(number="SH-000003", order_id=b.id, location_id=ams.id, status="shipped", shipped_at=today - 3 * H),
         *[Event(entity_type="order", entity_id=number, action="status_changed", from_state=before, to_state=after,
                 actor="tests", created_at=at, details=details)
           for number, before, after, at, details in [
               (a.number, "new", "on_hold", today - 24 * H, {"hold_reason": "stock"}),
               (a.number, "on_hold", "ready", today - 20 * H, None),
               (b.number, "new", "on_hold", today - 24 * H, {"hold_reason": "stock"}),
               (b.number, "on_hold", "ready", today - 22 * H, None),
               (d.number, "new", "on_hold", today - H, {"hold_reason": "address"})]])
    client = login("manager")
    body = client.get("/sla/reports").get_data(as_text=True)
    sales = re.findall(r'data-testid="sales-row"><td>([\d-]+)</td><td>(\w+)</td><td class="num">(\d+)</td>\s*'
                       r'<td class="num">(\d+)</td><td class="num">([^<]+)</td>', body)
    assert len(sales) in (2, 3)  # yesterday's WEB orders, today's WEB and B2B (one day if near midnight)
    web_total = sum(int(n) for _, ch, n, _, _ in sales if ch == "WEB")
    assert web_total == 3 and sum(int(x) for _, ch, _, x, _ in sales if ch == "WEB") == 1
    assert "lead-AMS" in body and "lead-LEJ" not in body  # only the first shipment dispatches
    lead = re.search(r'data-testid="lead-AMS">.*?</tr>', body, re.S).group(0)
    assert re.findall(r'<td class="num">([^<]+)</td>', lead) == ["2", "10.0", "20.0"]
    stock_holds = re.search(r'data-testid="hold-stock">.*?</tr>', body, re.S).group(0)
    assert re.findall(r'<td class="num">([^<]+)</td>', stock_holds) == ["2", "2", "0", "2.0", "4.0"]
    address = re.search(r'data-testid="hold-address">.*?</tr>', body, re.S).group(0)
    assert re.findall(r'<td class="num">([^<]+)</td>', address)[:3] == ["1", "0", "1"]

    assert parse_csv(client.get("/sla/reports/lead_times.csv"))[1] == ["AMS", "2", "10.00", "20.00"]
    sales_csv = parse_csv(client.get("/sla/reports/sales.csv"))
    assert sales_csv[0] == ["day", "channel", "currency", "orders", "cancelled", "revenue"]
    assert sum(int(r[3]) for r in sales_csv[1:]) == 4
    holds_csv = parse_csv(client.get("/sla/reports/holds.csv"))
    assert [r[0] for r in holds_csv[1:]] == ["address", "stock"]
    assert client.get("/sla/reports/nothing.csv").status_code == 404


def test_reports_handle_no_shipments_and_bad_dates(login, db):
    make_order(placed_at=datetime.now(UTC), paid_at=datetime.now(UTC))
    body = login("manager").get("/sla/reports?from=yesterday&to=2026-01-01").get_data(as_text=True)
    assert "is not a date" in body
    assert "No order placed in this period has shipped yet." in body
    long = login("manager").get("/sla/reports?from=2025-01-01&to=2026-01-01").get_data(as_text=True)
    assert "at most 92 days" in long and 'value="2025-10-02"' in long


# The outbox ------------------------------------------------------------------------------------


def _outbox(db, order=None):
    begin_write()
    notifications.enqueue_many([
        {"kind": "payment_reminder_1", "dedup_key": f"payment_reminder:1:{order.number}", "recipient": "a@example.com",
         "subject": "Please pay", "body": "…", "order_id": order.id},
        {"kind": "dispatch_breach", "dedup_key": f"dispatch_breach:{order.number}:u1", "recipient": "m@example.com",
         "subject": "Breached", "body": "…", "order_id": order.id},
    ], at=datetime.now(UTC))
    db.session.commit()
    begin_write()
    dead = db.session.scalar(select(Notification).where(Notification.kind == "dispatch_breach"))
    dead.status, dead.attempts, dead.last_error = "dead", 5, "SMTPRecipientsRefused: no such user"
    db.session.commit()
    return dead.id


def test_outbox_lists_filters_and_resends(login, db):
    order = make_order()
    dead_id = _outbox(db, order)
    client = login("manager")
    body = client.get("/sla/outbox").get_data(as_text=True)
    assert body.count('data-testid="notification-row"') == 2
    assert "No mail server is configured" in body
    assert "SMTPRecipientsRefused" in body
    assert client.get("/sla/outbox?status=dead").get_data(as_text=True).count('data-testid="notification-row"') == 1
    assert client.get("/sla/outbox?kind=payment_reminder_1").get_data(as_text=True).count("notification-row") == 1
    assert client.get(f"/sla/outbox?order={order.number.lower()}").get_data(as_text=True).count(
        'data-testid="notification-row"') == 2
    assert client.get("/sla/outbox?order=SO-999999").get_data(as_text=True).count('data-testid="notification-row"') == 0

    resent = client.post(f"/sla/outbox/{dead_id}/resend", headers=HX)
    assert resent.status_code == 200
    fragment = resent.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tr id="notification-{dead_id}"') and 'data-status="pending"' in fragment
    assert "will be sent again" in resent.headers["HX-Trigger"]
    audit = db.session.scalar(select(Event).where(Event.action == "notification_resent"))
    assert (audit.from_state, audit.to_state, audit.actor) == ("dead", "pending", f"user:{client.user.email}")

    again = client.post(f"/sla/outbox/{dead_id}/resend")
    assert again.status_code == 303  # already pending: explained in a flashed message
    assert "already waiting" in client.get("/sla/outbox").get_data(as_text=True)
    assert client.post("/sla/outbox/999999/resend").status_code == 404


# The chip --------------------------------------------------------------------------------------


def test_chip_macro_takes_a_clock_or_the_orders_api_dict(app, db):
    now = datetime.now(UTC)
    template = ('{% from "_components/sla_chip.html" import sla_chip, order_sla_chip %}'
                '{{ sla_chip(c) }}|{{ order_sla_chip(o) }}')
    order = make_order()
    save(db, clock(order, due=now - H, warn=now - 5 * H))
    with app.test_request_context():
        html = render_template_string(template, c={"kind": "payment", "state": "running", "due_at": now + 10 * H,
                                                   "warn_at": now - H}, o=order)
    chip, order_chip = html.split("|")
    assert 'data-tone="warn"' in chip and "payment" in chip and "due in 9 h" in chip
    assert 'data-tone="bad"' in order_chip and "1 h overdue" in order_chip and "badge-bad" in order_chip


def test_a_board_page_gets_each_orders_most_pressing_clock_in_one_query(db):
    from app.sla.chips import pressing_clocks

    now = datetime.now(UTC)
    calm, late, done = make_order(), make_order(), make_order()
    save(db, clock(calm, "payment", due=now + 30 * H), clock(calm, due=now + 50 * H),
         clock(late, due=now - 3 * H, state="breached", breached_at=now - 3 * H),
         clock(late, "stock_hold", due=now + H),
         clock(done, due=now - H, state="met", met_at=now - 2 * H))
    found = pressing_clocks([calm.id, late.id, done.id])
    assert {order_id: c.kind for order_id, c in found.items()} == {calm.id: "payment", late.id: "dispatch"}


# Admin: channel SLA settings and location calendars ------------------------------------------------


def test_admin_edits_a_channels_sla_policy(login, db):
    make_channel("WEB")
    admin = login("admin")
    page = admin.get("/admin/channels/WEB/sla").get_data(as_text=True)
    for value in ('value="72"', 'value="80"', 'value="24"', 'value="48"'):
        assert value in page
    assert "SLA settings" in admin.get("/admin/channels").get_data(as_text=True)

    form = {"dispatch_sla_hours": "16", "dispatch_warn_pct": "50", "dispatch_business_hours": "y",
            "payment_reminder_1_hours": "12", "payment_reminder_2_hours": "36", "auto_cancel_hours": "72"}
    assert admin.post("/admin/channels/WEB/sla", data=form).status_code == 303
    channel = db.session.scalar(select(Channel).where(Channel.code == "WEB"))
    db.session.refresh(channel)
    assert (channel.dispatch_sla_hours, channel.dispatch_warn_pct, channel.dispatch_business_hours,
            channel.payment_reminder_1_hours, channel.auto_cancel_hours) == (16, 50, True, 12, None)
    changed = db.session.scalar(select(Event).where(Event.action == "sla_policy_changed"))
    assert changed.details["dispatch_sla_hours"] == [72, 16]

    refused = admin.post("/admin/channels/WEB/sla", data={**form, "payment_reminder_2_hours": "6", "auto_cancel": "y"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "The second reminder must come after the first." in body and 'value="6"' in body
    assert admin.get("/admin/channels/NOPE/sla").status_code == 404


def test_admin_edits_a_locations_calendar_and_holidays(login, db):
    make_location("AMS", timezone="UTC")
    admin = login("admin")
    assert "Calendar" in admin.get("/admin/locations").get_data(as_text=True)
    saved = admin.post("/admin/locations/AMS/calendar", data={"timezone": "Europe/Amsterdam",
                                                              "working_days": ["1", "2", "3", "4", "5", "6"],
                                                              "cutoff_time": "17:30"})
    assert saved.status_code == 303
    location = db.session.scalar(select(Location).where(Location.code == "AMS"))
    db.session.refresh(location)
    assert (location.timezone, location.working_days, location.cutoff_time) == ("Europe/Amsterdam", "123456", "17:30")

    bad = admin.post("/admin/locations/AMS/calendar", data={"timezone": "Mars/Olympus", "cutoff_time": "17:30"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "Unknown timezone “Mars/Olympus”" in page and "Pick at least one working day." in page

    added = admin.post("/admin/locations/AMS/holidays", data={"day": "2026-04-27", "name": "King's Day"})
    assert added.status_code == 303
    twice = admin.post("/admin/locations/AMS/holidays", data={"day": "2026-04-27", "name": "again"})
    assert twice.status_code == 409 and "already a holiday" in twice.get_data(as_text=True)
    page = admin.get("/admin/locations/AMS/calendar").get_data(as_text=True)
    assert 'id="holiday-2026-04-27"' in page and "King&#39;s Day" in page
    assert db.session.scalar(select(LocationHoliday.day)) == date(2026, 4, 27)

    removed = admin.post("/admin/locations/AMS/holidays/2026-04-27/delete", headers=HX)
    assert removed.status_code == 200 and 'id="holiday-2026-04-27"' not in removed.get_data(as_text=True)
    assert admin.post("/admin/locations/AMS/holidays/2026-04-27/delete").status_code == 404
    actions = [e.action for e in db.session.scalars(select(Event).where(Event.entity_type == "location"))]
    assert actions == ["calendar_changed", "holiday_added", "holiday_removed"]


def test_a_saved_policy_sets_the_deadlines_of_new_orders(login, app, db):
    from app.services import catalog, orders
    from tests.services.conftest import ACTOR, order_body, stock  # noqa: F401

    catalog.create_channel(code="web", name="Web", actor=ACTOR)
    catalog.create_location(code="AMS", name="Amsterdam", timezone="Europe/Amsterdam", actor=ACTOR)
    catalog.create_product(sku="MUG", name="Mug", unit_price=Decimal("12.50"), actor=ACTOR)
    login("admin").post("/admin/channels/web/sla", data={
        "dispatch_sla_hours": "48", "dispatch_warn_pct": "75", "payment_reminder_1_hours": "6",
        "payment_reminder_2_hours": "12", "auto_cancel": "y", "auto_cancel_hours": "24"})
    placed = datetime(2026, 3, 2, 9, tzinfo=UTC)
    order, _ = orders.create_order(order_body("A-1", placed_at=placed), actor=ACTOR, now=placed)
    payment = db.session.scalar(select(SlaClock).where(SlaClock.order_id == order.id))
    assert (payment.warn_at, payment.notice_at, payment.due_at) == (placed + 6 * H, placed + 12 * H, placed + 24 * H)
    assert db.session.scalar(select(Order.ship_by).where(Order.id == order.id)) is None
