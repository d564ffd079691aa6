"""`GET /api/v1/notifications`: the reminders and escalations an order caused, in the
DESIGN.md §6 shape, cursor-paginated, readable by every role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.services import notifications
from app.services.tx import begin_write
from jobs.scheduler import tick

BODY = {
    "channel": "web",
    "external_id": "WEB-1001",
    "placed_at": "2026-03-02T10:00:00+01:00",
    "customer": {"name": "Zoë Müller", "email": "zoe@example.com"},
    "ship_to": {"name": "Zoë Müller", "line1": "Damrak 1", "city": "Amsterdam", "postcode": "1011 AB",
                "country": "NL"},
    "lines": [{"sku": "MUG", "qty": 1, "unit_price": "12.50"}],
}
PLACED = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def shop(api):
    api.post("/api/v1/channels", json={"code": "web", "name": "Web", "kind": "webstore"})
    api.post("/api/v1/locations", json={"code": "AMS", "name": "Amsterdam", "timezone": "Europe/Amsterdam"})
    api.post("/api/v1/products", json={"sku": "MUG", "name": "Mug", "unit_price": "12.50"})
    api.post("/api/v1/stock/receipts", json={"location": "AMS", "sku": "MUG", "qty": 5, "reference": "PO-1"})
    return api


def test_an_unpaid_orders_reminders_in_the_documented_shape(app, shop):
    number = shop.post("/api/v1/orders", json=BODY).json["number"]
    other = shop.post("/api/v1/orders", json={**BODY, "external_id": "WEB-1002"}).json["number"]
    tick(app, PLACED + timedelta(hours=24))
    tick(app, PLACED + timedelta(hours=48))

    response = shop.get(f"/api/v1/notifications?order={number}")
    assert response.status_code == 200
    assert response.json["next_cursor"] is None
    items = response.json["items"]
    assert [n["dedup_key"] for n in items] == [f"payment_reminder:2:{number}", f"payment_reminder:1:{number}"]
    first = items[1]
    assert {"kind", "order", "dedup_key", "status", "created_at", "sent_at"} <= set(first)
    assert (first["kind"], first["order"], first["status"], first["sent_at"]) == (
        "payment_reminder_1", number, "pending", None)
    assert first["created_at"] == "2026-03-03T09:00:00+00:00"
    assert len(shop.get("/api/v1/notifications").json["items"]) == 4
    assert {n["order"] for n in shop.get(f"/api/v1/notifications?order={other}").json["items"]} == {other}


def test_pages_follow_the_cursor(db, api):
    begin_write()
    notifications.enqueue_many(
        [{"kind": "dispatch_breach", "dedup_key": f"dispatch_breach:SO-{i:06d}:u1", "recipient": "m@example.com",
          "subject": "s", "body": "b"} for i in range(5)], at=PLACED)
    db.session.commit()
    seen, cursor = [], None
    while True:
        url = "/api/v1/notifications?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).json
        seen += [n["dedup_key"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"dispatch_breach:SO-{i:06d}:u1" for i in reversed(range(5))]


@pytest.mark.parametrize("role", ["ops", "finance", "manager", "admin"])
def test_every_role_may_read_them(api_as, role):
    assert api_as(role).get("/api/v1/notifications").status_code == 200


def test_filters_and_errors(api, client):
    assert api.get("/api/v1/notifications?order=SO-999999").json == {"items": [], "next_cursor": None}
    assert api.get("/api/v1/notifications?status=lost").status_code == 422
    assert api.get("/api/v1/notifications?cursor=nonsense").status_code == 422
    assert api.get("/api/v1/notifications?limit=1000").status_code == 422
    assert client.get("/api/v1/notifications").status_code == 401
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/notifications" in spec["paths"]
