"""Shipping, delivery and invoices through the API, as an integrator's script sees them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Invoice, StockMove
from app.services import invoicing
from tests.fulfillment_scenes import UPS, packed_order, ready_order, shipments_of, shipped_order
from tests.services.conftest import ACTOR, NOW, shop, stock  # noqa: F401  (shop is a fixture)


@pytest.fixture
def packed(shop):  # noqa: F811
    stock("AMS", "MUG", 5)
    stock("AMS", "TEE", 5)
    return packed_order("API-1", (("MUG", 2, "12.50"), ("TEE", 1, "25.00")))


def test_shipping_everything_answers_201_with_the_shipped_order_and_its_invoice(api, packed):
    response = api.post(f"/api/v1/orders/{packed}/shipments", json={"carrier": "ups", "tracking_number": UPS})

    assert response.status_code == 201, response.json
    order = response.json
    assert order["number"] == packed and order["status"] == "shipped"
    assert [(ln["sku"], ln["qty_shipped"], ln["qty_allocated"]) for ln in order["lines"]] == [
        ("MUG", 2, 0),
        ("TEE", 1, 0),
    ]
    assert order["allocations"] == []
    [shipment] = order["shipments"]
    assert shipment == {
        "number": "SH-000001",
        "location": "AMS",
        "status": "shipped",
        "carrier": "ups",
        "tracking_number": UPS,
        "lines": [{"sku": "MUG", "qty": 2}, {"sku": "TEE", "qty": 1}],
    }
    # The invoice exists when the call returns.
    invoices = api.get(f"/api/v1/invoices?order={packed}").json["items"]
    assert [(i["number"], i["kind"], i["order"], i["total"], i["currency"], i["shipment"]) for i in invoices] == [
        ("INV-2026-000001", "invoice", packed, order["total"], "EUR", "SH-000001")
    ]
    assert invoices[0]["issued_at"].endswith("+00:00")


def test_shipping_part_of_what_is_packed(api, packed):
    response = api.post(
        f"/api/v1/orders/{packed}/shipments",
        json={"carrier": "dhl_express", "tracking_number": "1234567890", "lines": [{"sku": "MUG", "qty": 1}]},
    )
    assert response.status_code == 201
    order = response.json
    assert order["status"] == "partially_shipped"
    assert [(ln["sku"], ln["qty_shipped"]) for ln in order["lines"]] == [("MUG", 1), ("TEE", 0)]
    assert sorted((a["sku"], a["qty"]) for a in order["allocations"]) == [("MUG", 1), ("TEE", 1)]
    moves = db.session.scalars(select(StockMove.qty).where(StockMove.kind == "shipment")).all()
    assert moves == [-1]


def test_an_order_that_is_not_packed_cannot_ship(api, shop):  # noqa: F811
    stock("AMS", "MUG", 5)
    number = ready_order("API-READY")
    response = api.post(f"/api/v1/orders/{number}/shipments", json={"carrier": "ups", "tracking_number": UPS})
    assert response.status_code == 409
    assert response.json["error"] == "illegal_transition"
    assert "not packed" in response.json["message"]
    assert api.get(f"/api/v1/orders/{number}").json["status"] == "ready"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"carrier": "ups", "tracking_number": "1Z-too-short"}, "tracking_number"),
        ({"carrier": "dpd", "tracking_number": "ABCDEFGHIJKLMN"}, "tracking_number"),
        ({"carrier": "pigeon", "tracking_number": "1234"}, "carrier"),
        ({"carrier": "ups"}, "tracking_number"),
        ({"carrier": "ups", "tracking_number": UPS, "lines": [{"sku": "MUG", "qty": 0}]}, "lines"),
    ],
)
def test_bad_tracking_numbers_and_bodies_answer_422(api, packed, body, field):
    response = api.post(f"/api/v1/orders/{packed}/shipments", json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "validation_error"
    assert field in response.json["details"]
    assert api.get(f"/api/v1/orders/{packed}").json["status"] == "packed"


def test_more_than_is_packed_answers_422_and_unknown_orders_404(api, packed):
    response = api.post(
        f"/api/v1/orders/{packed}/shipments",
        json={"carrier": "ups", "tracking_number": UPS, "lines": [{"sku": "MUG", "qty": 3}]},
    )
    assert response.status_code == 422 and "Only 2 × MUG are packed" in response.json["message"]
    response = api.post("/api/v1/orders/SO-999999/shipments", json={"carrier": "ups", "tracking_number": UPS})
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_marking_delivered(api, packed):
    api.post(f"/api/v1/orders/{packed}/shipments", json={"carrier": "ups", "tracking_number": UPS})
    response = api.post("/api/v1/shipments/SH-000001/deliver")
    assert response.status_code == 200
    assert response.json["status"] == "delivered" and response.json["shipments"][0]["status"] == "delivered"
    again = api.post("/api/v1/shipments/SH-000001/deliver")
    assert again.status_code == 409 and "already delivered" in again.json["message"]
    assert api.post("/api/v1/shipments/SH-999999/deliver").status_code == 404


def test_invoice_list_pages_with_a_cursor_and_filters_by_order_and_kind(api, shop):  # noqa: F811
    stock("AMS", "MUG", 10)
    numbers = [shipped_order(f"LIST-{i}") for i in range(3)]
    invoice = db.session.scalar(select(Invoice).order_by(Invoice.id))
    invoicing.credit_invoice(invoice.number, reason="Goodwill", amount=invoice.total, actor=ACTOR, now=NOW)

    first = api.get("/api/v1/invoices?limit=2").json
    assert [i["number"] for i in first["items"]] == ["INV-2026-000001", "INV-2026-000002"]
    rest = api.get(f"/api/v1/invoices?limit=2&cursor={first['next_cursor']}").json
    assert [i["number"] for i in rest["items"]] == ["INV-2026-000003", "CN-2026-000001"]
    assert rest["next_cursor"] is None
    credit = rest["items"][1]
    assert (credit["kind"], credit["corrects"], credit["order"]) == ("credit_note", invoice.number, numbers[0])
    assert "corrects" not in first["items"][0]
    assert [i["number"] for i in api.get(f"/api/v1/invoices?order={numbers[0]}").json["items"]] == [
        "INV-2026-000001",
        "CN-2026-000001",
    ]
    assert [i["number"] for i in api.get("/api/v1/invoices?kind=credit_note").json["items"]] == ["CN-2026-000001"]
    assert api.get("/api/v1/invoices?kind=receipt").status_code == 422
    assert api.get("/api/v1/invoices/INV-2026-000002").json["order"] == numbers[1]
    assert api.get("/api/v1/invoices/INV-2026-999999").status_code == 404


def test_ops_ship_but_only_finance_reads_invoices(api_as, packed):
    ops, finance = api_as("ops"), api_as("finance")
    assert (
        finance.post(f"/api/v1/orders/{packed}/shipments", json={"carrier": "ups", "tracking_number": UPS}).status_code
        == 403
    )
    assert (
        ops.post(f"/api/v1/orders/{packed}/shipments", json={"carrier": "ups", "tracking_number": UPS}).status_code
        == 201
    )
    assert ops.get("/api/v1/invoices").status_code == 403
    assert finance.get("/api/v1/invoices").json["items"][0]["number"] == "INV-2026-000001"
    assert shipments_of(packed)[0].status == "shipped"


def test_the_openapi_document_describes_the_new_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/orders/{number}/shipments", "/api/v1/shipments/{number}/deliver", "/api/v1/invoices"} <= set(paths)
