"""The orders and stock API as an integrator's script sees it: shapes and every error code."""

from __future__ import annotations

import pytest

BODY = {
    "channel": "web",
    "external_id": "WEB-1001",
    "placed_at": "2026-03-02T10:00:00+01:00",
    "customer": {"name": "Zoë Müller", "email": "zoe@example.com"},
    "ship_to": {"name": "Zoë Müller", "line1": "Damrak 1", "city": "Amsterdam", "postcode": "1011 AB",
                "country": "NL"},
    "lines": [{"sku": "MUG", "qty": 2, "unit_price": "12.50"}],
    "shipping_price": "4.95",
}


@pytest.fixture
def catalog(api):
    assert api.post("/api/v1/channels", json={"code": "web", "name": "Web", "kind": "webstore"}).status_code == 201
    assert api.post("/api/v1/locations", json={"code": "AMS", "name": "Amsterdam", "regions": ["NL"],
                                               "timezone": "Europe/Amsterdam"}).status_code == 201
    assert api.post("/api/v1/products", json={"sku": "MUG", "name": "Mug", "unit_price": "12.50"}).status_code == 201
    response = api.post("/api/v1/stock/receipts", json={"location": "AMS", "sku": "MUG", "qty": 5,
                                                        "reference": "PO-1"})
    assert response.status_code == 201
    assert response.json == {"items": [{"sku": "MUG", "location": "AMS", "on_hand": 5, "reserved": 0,
                                        "available": 5}]}
    return api


def test_create_order_answers_the_documented_shape(catalog):
    response = catalog.post("/api/v1/orders", json=BODY)
    assert response.status_code == 201
    order = response.json
    assert order["number"] == "SO-000001"
    assert (order["status"], order["payment_status"], order["hold_reason"]) == ("new", "unpaid", None)
    assert order["total"] == "29.95" and order["currency"] == "EUR"
    assert order["placed_at"] == "2026-03-02T09:00:00+00:00"
    assert order["lines"] == [{"sku": "MUG", "name": "Mug", "qty": 2, "unit_price": "12.50", "qty_allocated": 2,
                               "qty_shipped": 0, "qty_returned": 0}]
    assert order["allocations"] == [{"sku": "MUG", "location": "AMS", "qty": 2}]
    assert order["shipments"] == []
    assert [c["kind"] for c in order["clocks"]] == ["payment"]
    assert catalog.get("/api/v1/stock?sku=MUG").json["items"][0]["reserved"] == 2


def test_same_order_twice_is_200_with_the_first(catalog):
    first = catalog.post("/api/v1/orders", json=BODY)
    again = catalog.post("/api/v1/orders", json=BODY)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["number"] == first.json["number"]


def test_same_key_different_content_is_409(catalog):
    catalog.post("/api/v1/orders", json=BODY)
    changed = {**BODY, "lines": [{"sku": "MUG", "qty": 1, "unit_price": "12.50"}]}
    response = catalog.post("/api/v1/orders", json=changed)
    assert response.status_code == 409 and response.json["error"] == "idempotency_conflict"


@pytest.mark.parametrize(("change", "field"), [
    ({"lines": [{"sku": "NOPE", "qty": 1, "unit_price": "1.00"}]}, "lines"),
    ({"lines": [{"sku": "MUG", "qty": 0, "unit_price": "1.00"}]}, "lines"),
    ({"lines": [{"sku": "MUG", "qty": 1, "unit_price": "1.001"}]}, "lines"),
    ({"lines": [{"sku": "MUG", "qty": 1, "unit_price": "abc"}]}, "lines"),
    ({"lines": []}, "lines"),
    ({"ship_to": {"name": "X", "city": "Y", "postcode": "1", "country": "NL"}}, "ship_to"),
    ({"ship_to": {**BODY["ship_to"], "country": "Netherlands"}}, "ship_to"),
    ({"customer": {"name": "X", "email": "not-an-email"}}, "customer"),
    ({"channel": "nope"}, "channel"),
    ({"placed_at": "2026-03-02T10:00:00"}, "placed_at"),
])
def test_invalid_orders_are_422_with_field_messages_and_create_nothing(catalog, change, field):
    response = catalog.post("/api/v1/orders", json={**BODY, **change})
    assert response.status_code == 422, response.json
    assert response.json["error"] == "validation_error" and field in response.json["details"]
    assert catalog.get("/api/v1/orders").json["items"] == []


def test_payment_moves_order_to_ready(catalog):
    number = catalog.post("/api/v1/orders", json=BODY).json["number"]
    response = catalog.post(f"/api/v1/orders/{number}/payments",
                            json={"amount": "29.95", "method": "card", "reference": "psp-1"})
    assert response.status_code == 201
    assert (response.json["status"], response.json["payment_status"]) == ("ready", "paid")
    assert response.json["ship_by"] is not None
    too_much = catalog.post(f"/api/v1/orders/{number}/payments", json={"amount": "1.00", "method": "card"})
    assert too_much.status_code == 422


def test_transitions_illegal_stale_and_unknown(catalog):
    order = catalog.post("/api/v1/orders", json=BODY).json
    number, version = order["number"], order["version"]
    illegal = catalog.post(f"/api/v1/orders/{number}/transition", json={"to": "delivered"})
    assert illegal.status_code == 409 and illegal.json["error"] == "illegal_transition"
    assert "cannot be moved to delivered" in illegal.json["message"]
    held = catalog.post(f"/api/v1/orders/{number}/transition", json={"to": "on_hold", "reason": "customer called",
                                                                    "version": version})
    assert held.status_code == 200 and held.json["hold_reason"] == "manual"
    stale = catalog.post(f"/api/v1/orders/{number}/transition", json={"to": "new", "version": version})
    assert stale.status_code == 409 and stale.json["error"] == "stale_version"
    assert stale.json["details"]["status"] == "on_hold"
    bogus = catalog.post(f"/api/v1/orders/{number}/transition", json={"to": "teleported"})
    assert bogus.status_code == 422
    missing = catalog.post("/api/v1/orders/SO-999999/transition", json={"to": "new"})
    assert missing.status_code == 404


def test_cancel_releases_stock(catalog):
    number = catalog.post("/api/v1/orders", json=BODY).json["number"]
    response = catalog.post(f"/api/v1/orders/{number}/cancel", json={"reason": "fraud"})
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert response.json["allocations"] == []
    assert catalog.get("/api/v1/stock?sku=MUG").json["items"][0]["reserved"] == 0
    again = catalog.post(f"/api/v1/orders/{number}/cancel", json={"reason": "fraud"})
    assert again.status_code == 409


def test_order_list_filters_and_search(catalog):
    catalog.post("/api/v1/orders", json=BODY)
    catalog.post("/api/v1/orders", json={**BODY, "external_id": "WEB-1002",
                                         "customer": {"name": "Other", "email": "o@example.com"}})
    assert len(catalog.get("/api/v1/orders").json["items"]) == 2
    assert [o["external_id"] for o in catalog.get("/api/v1/orders?q=zoe@example.com").json["items"]] == ["WEB-1001"]
    assert len(catalog.get("/api/v1/orders?q=SO-000002").json["items"]) == 1
    assert len(catalog.get("/api/v1/orders?status=new&channel=web").json["items"]) == 2
    assert catalog.get("/api/v1/orders?status=bogus").status_code == 422
    page = catalog.get("/api/v1/orders?limit=1").json
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = catalog.get(f"/api/v1/orders?limit=1&cursor={page['next_cursor']}").json
    assert rest["items"][0]["number"] == "SO-000002" and rest["next_cursor"] is None


def test_finance_may_record_payments_but_not_move_orders(catalog, api_as):
    number = catalog.post("/api/v1/orders", json=BODY).json["number"]
    finance = api_as("finance")
    assert finance.post(f"/api/v1/orders/{number}/transition", json={"to": "on_hold"}).status_code == 403
    assert finance.post(f"/api/v1/orders/{number}/payments",
                        json={"amount": "1.00", "method": "bank"}).status_code == 201


def test_stock_actions_and_their_errors(catalog):
    adj = catalog.post("/api/v1/stock/adjustments", json={"location": "AMS", "sku": "MUG", "delta": -9,
                                                          "reason": "loss"})
    assert adj.status_code == 409 and "at most 5" in adj.json["message"]
    bad_reason = catalog.post("/api/v1/stock/adjustments", json={"location": "AMS", "sku": "MUG", "delta": -1,
                                                                 "reason": "because"})
    assert bad_reason.status_code == 422
    same = catalog.post("/api/v1/stock/transfers", json={"from_location": "AMS", "to_location": "AMS",
                                                         "sku": "MUG", "qty": 1})
    assert same.status_code == 422
    unknown = catalog.post("/api/v1/stock/receipts", json={"location": "XXX", "sku": "MUG", "qty": 1})
    assert unknown.status_code == 404
    zero = catalog.post("/api/v1/stock/receipts", json={"location": "AMS", "sku": "MUG", "qty": 0})
    assert zero.status_code == 422
    catalog.post("/api/v1/locations", json={"code": "LEJ", "name": "Leipzig"})
    moved = catalog.post("/api/v1/stock/transfers", json={"from_location": "AMS", "to_location": "LEJ",
                                                          "sku": "MUG", "qty": 2})
    assert moved.status_code == 201
    assert [(i["location"], i["on_hand"]) for i in moved.json["items"]] == [("AMS", 3), ("LEJ", 2)]


def _invoice_at_payment(channel: str = "web") -> None:
    """The channel setting "invoice the whole order at payment" (admin pages; no API field)."""
    from sqlalchemy import select

    from app.models import Channel
    from app.services.tx import begin_write

    session = begin_write()
    session.scalar(select(Channel).where(Channel.code == channel)).invoice_on = "payment"
    session.commit()


def test_a_payment_on_a_channel_invoicing_at_payment_returns_with_the_invoice_issued(catalog):
    _invoice_at_payment()
    number = catalog.post("/api/v1/orders", json=BODY).json["number"]
    assert catalog.get(f"/api/v1/invoices?order={number}").json["items"] == []

    paid = catalog.post(f"/api/v1/orders/{number}/payments", json={"amount": "29.95", "method": "card"})

    assert paid.status_code == 201 and paid.json["payment_status"] == "paid"
    [invoice] = catalog.get(f"/api/v1/invoices?order={number}").json["items"]
    assert (invoice["kind"], invoice["order"], invoice["total"], invoice["shipment"]) == ("invoice", number, "29.95",
                                                                                         None)
    assert invoice["number"].startswith("INV-")


def test_a_payment_on_a_channel_invoicing_per_shipment_issues_no_invoice(catalog):
    number = catalog.post("/api/v1/orders", json=BODY).json["number"]
    catalog.post(f"/api/v1/orders/{number}/payments", json={"amount": "29.95", "method": "card"})
    assert catalog.get(f"/api/v1/invoices?order={number}").json["items"] == []


def _ready_and_waved(api) -> str:
    number = api.post("/api/v1/orders", json=BODY).json["number"]
    api.post(f"/api/v1/orders/{number}/payments", json={"amount": "29.95", "method": "card"})
    from app.services.actors import Actor
    from app.services.fulfillment import waves

    waves.create_wave("AMS", order_numbers=[number], actor=Actor(label="test"))
    return number


def test_transition_of_a_picking_order_back_to_ready_puts_its_parcel_back(catalog):
    number = _ready_and_waved(catalog)
    picking = catalog.get(f"/api/v1/orders/{number}").json
    assert picking["status"] == "picking" and [s["status"] for s in picking["shipments"]] == ["picking"]

    back = catalog.post(f"/api/v1/orders/{number}/transition", json={"to": "ready", "reason": "bin was empty"})

    assert back.status_code == 200 and back.json["status"] == "ready"
    assert [s["status"] for s in back.json["shipments"]] == ["cancelled"]
    assert back.json["allocations"] == [{"sku": "MUG", "location": "AMS", "qty": 2}]  # still reserved
    assert catalog.get("/api/v1/stock?sku=MUG").json["items"][0]["reserved"] == 2


@pytest.mark.parametrize(("to", "message"), [
    ("shipped", "Ship it from the Fulfillment screen: a shipment needs its carrier and tracking number."),
    ("partially_shipped", "Ship it, or part of it, from the Fulfillment screen"),
])
def test_transition_to_shipped_is_refused_with_where_to_ship(catalog, to, message):
    number = _ready_and_waved(catalog)
    from app.services.actors import Actor
    from app.services.fulfillment import packing
    from tests.fulfillment_scenes import shipments_of

    for _ in range(2):
        packing.scan(shipments_of(number)[0].number, "MUG", actor=Actor(label="test"))
    assert catalog.get(f"/api/v1/orders/{number}").json["status"] == "packed"

    refused = catalog.post(f"/api/v1/orders/{number}/transition", json={"to": to})

    assert refused.status_code == 409 and refused.json["error"] == "illegal_transition"
    assert refused.json["message"].startswith(message)
    assert catalog.get(f"/api/v1/orders/{number}").json["status"] == "packed"


@pytest.mark.parametrize(("q", "expected"), [
    ("SO-000001", ["WEB-1001"]),
    ("1", ["WEB-1001"]),  # the digits of the number
    ("so-2", ["WEB-1002"]),
    ("WEB-1002", ["WEB-1002"]),  # external id
    ("ZOE@EXAMPLE.COM", ["WEB-1001"]),  # e-mail, any case
    ("mug", ["WEB-1001", "WEB-1002"]),  # a SKU on a line
    ("zoë m", ["WEB-1001"]),  # the start of the customer's name
    ("pat", ["WEB-1002"]),  # the start of the ship-to name
    ("müller", []),  # not the middle of a name
    ("example.com", []),  # not part of an e-mail
])
@pytest.mark.parametrize("ids_in_hand", [5000, 1], ids=["matches-looked-up", "many-matches-tested-in-turn"])
def test_search_finds_orders_by_what_the_term_can_be(catalog, monkeypatch, q, expected, ids_in_hand):
    # A search matching more orders than IDS_IN_HAND runs another way; a limit of 1 makes
    # these few orders take it.
    monkeypatch.setattr("app.services.queries.orders.IDS_IN_HAND", ids_in_hand)
    catalog.post("/api/v1/orders", json=BODY)
    catalog.post("/api/v1/orders", json={**BODY, "external_id": "WEB-1002",
                                         "customer": {"name": "Other", "email": "o@example.com"},
                                         "ship_to": {**BODY["ship_to"], "name": "Pat Recipient"}})
    found = catalog.get("/api/v1/orders", query_string={"q": q}).json["items"]
    assert [o["external_id"] for o in found] == expected
