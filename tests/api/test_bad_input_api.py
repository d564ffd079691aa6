"""Bad input through the JSON API (docs/bad-input.md points here): every refusal is a 4xx
with the documented body {"error", "message", "details"}, and nothing is half-written."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.models import Order, Product, StockMove
from tests.factories import make_channel, make_location, make_product, make_stock

XSS = '<script>alert("x")</script>'


@pytest.fixture
def shop(app):
    mug = make_product("MUG", name="Blue mug")
    ams, _ = make_location("AMS"), make_location("RTM")
    make_stock(mug, ams, 10)
    make_channel("WEB")
    return mug


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.json)
    body = response.json
    assert set(body) <= {"error", "message", "details"} and body["error"] and body["message"]
    if code:
        assert body["error"] == code
    return body


def order_body(**overrides) -> dict:
    body = {"channel": "WEB", "external_id": "E-1", "customer": {"name": "Ann", "email": "ann@example.com"},
            "ship_to": {"name": "Ann", "line1": "Main 1", "city": "Utrecht", "postcode": "3511", "country": "NL"},
            "lines": [{"sku": "MUG", "qty": 1, "unit_price": "9.90"}]}
    body.update(overrides)
    return body


def test_markup_is_stored_as_text_and_served_as_json(api, shop):
    created = api.post("/api/v1/products", json={"sku": "XSS-1", "name": XSS, "unit_price": "1.00"})
    assert created.status_code == 201
    read = api.get("/api/v1/products/XSS-1")
    assert read.mimetype == "application/json" and read.json["name"] == XSS
    assert read.headers["X-Content-Type-Options"] == "nosniff"  # never sniffed into HTML


@pytest.mark.parametrize("q", ["' OR '1'='1", "%", "_", "'; DROP TABLE orders; --", "\\"])
def test_sql_like_queries_match_nothing(api, shop, db, q):
    assert api.post("/api/v1/orders", json=order_body()).status_code == 201
    listed = api.get("/api/v1/orders", query_string={"q": q})
    assert listed.status_code == 200 and listed.json["items"] == []
    assert api.get("/api/v1/stock", query_string={"sku": q}).json["items"] == []
    assert_error(api.get(f"/api/v1/products/{q}"), 404, "not_found")
    assert count(db, Order) == 1


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/stock/receipts", {"location": "AMS", "sku": "MUG", "qty": -1}, "qty"),
    ("/api/v1/stock/receipts", {"location": "AMS", "sku": "MUG", "qty": 0}, "qty"),
    ("/api/v1/stock/receipts", {"location": "AMS", "sku": "MUG", "qty": 10**30}, "qty"),
    ("/api/v1/stock/receipts", {"location": "AMS", "sku": "MUG", "qty": 2.5}, "qty"),
    ("/api/v1/stock/receipts", {"location": "AMS", "sku": "MUG", "qty": "5"}, "qty"),
    ("/api/v1/stock/adjustments", {"location": "AMS", "sku": "MUG", "delta": -(10**20), "reason": "count"}, "delta"),
    ("/api/v1/stock/transfers", {"from_location": "AMS", "to_location": "RTM", "sku": "MUG", "qty": 2**63}, "qty"),
    ("/api/v1/products", {"sku": "P", "name": "P", "unit_price": "1e104"}, "unit_price"),
    ("/api/v1/products", {"sku": "P", "name": "P", "unit_price": "-1.00"}, "unit_price"),
    ("/api/v1/products", {"sku": "P", "name": "P", "unit_price": "0.001"}, "unit_price"),
    ("/api/v1/products", {"sku": "P", "name": "P", "unit_price": "NaN"}, "unit_price"),
    ("/api/v1/products", {"sku": "P", "name": "P", "unit_price": "Infinity"}, "unit_price"),
    ("/api/v1/products", {"sku": "P", "name": "P", "unit_price": "1.00", "weight_g": 10**21}, "weight_g"),
    ("/api/v1/locations", {"code": "L", "name": "L", "priority": 10**12}, "priority"),
    ("/api/v1/channels", {"code": "C", "name": "C", "dispatch_sla_hours": -3}, "dispatch_sla_hours"),
])
def test_impossible_numbers_are_refused_with_the_field_named(api, shop, db, path, body, field):
    moves, products = count(db, StockMove), count(db, Product)
    refused = assert_error(api.post(path, json=body), 422, "validation_error")
    assert field in refused["details"]
    assert (count(db, StockMove), count(db, Product)) == (moves, products)


def test_orders_whose_total_cannot_be_stored_are_refused(api, shop, db):
    lines = [{"sku": "MUG", "qty": 100_000, "unit_price": "99999999.00"}] * 200
    refused = assert_error(api.post("/api/v1/orders", json=order_body(lines=lines)), 422, "validation_error")
    assert "order total" in json.dumps(refused["details"])
    far_future = assert_error(api.post("/api/v1/orders", json=order_body(placed_at="9999-12-31T23:59:59+00:00")),
                              422)
    assert "placed_at" in far_future["details"]
    huge_version = api.post("/api/v1/orders/SO-000001/transition", json={"to": "ready", "version": 2**64})
    assert_error(huge_version, 422)
    assert count(db, Order) == 0


def test_malformed_json_wrong_types_and_wrong_content_type(api, shop):
    post = api.post
    assert_error(post("/api/v1/products", data="{not json", content_type="application/json"), 400, "bad_request")
    assert_error(post("/api/v1/products", data="[1, 2]", content_type="application/json"), 422)
    assert_error(post("/api/v1/products", data="\xff\xfe garbage".encode("latin-1"),
                      content_type="application/json"), 400)
    as_text = post("/api/v1/products", data='{"sku": "T", "name": "T", "unit_price": "1.00"}',
                   content_type="text/plain")
    assert_error(as_text, 422)
    assert_error(post("/api/v1/products", json={"sku": ["A"], "name": {"x": 1}, "unit_price": True}), 422)


def test_duplicate_keys_in_a_json_object_are_refused(api, shop, db):
    body = '{"sku": "DUP-A", "sku": "DUP-B", "name": "Mug", "unit_price": "1.00"}'
    refused = assert_error(api.post("/api/v1/products", data=body, content_type="application/json"), 400,
                           "bad_request")
    assert refused["details"] == {"json": ["Duplicate keys in a JSON object: sku."]}
    nested = ('{"location": "AMS", "sku": "MUG", "qty": 1, "reference": "a", "reference": "b"}')
    assert_error(api.post("/api/v1/stock/receipts", data=nested, content_type="application/json"), 400)
    assert count(db, Product) == 1


def test_the_same_key_twice_as_resources_is_a_conflict(api, shop, db):
    assert_error(api.post("/api/v1/products", json={"sku": "MUG", "name": "Again", "unit_price": "1.00"}), 409)
    assert_error(api.post("/api/v1/locations", json={"code": "AMS", "name": "Again"}), 409)
    assert_error(api.post("/api/v1/channels", json={"code": "WEB", "name": "Again"}), 409)
    first = api.post("/api/v1/orders", json=order_body())
    assert first.status_code == 201
    changed = order_body(lines=[{"sku": "MUG", "qty": 2, "unit_price": "9.90"}])
    assert_error(api.post("/api/v1/orders", json=changed), 409, "idempotency_conflict")
    assert count(db, Order) == 1


def test_nul_characters_are_refused_on_both_engines(api, shop, db):
    refused = assert_error(api.post("/api/v1/products", json={"sku": "N1", "name": "A\u0000B", "unit_price": "1"}),
                           422, "validation_error")
    assert refused["details"] == {"name": ["Contains a NUL character."]}
    nested = order_body(lines=[{"sku": "MU\u0000G", "qty": 1, "unit_price": "1.00"}])
    assert "lines.0.sku" in assert_error(api.post("/api/v1/orders", json=nested), 422)["details"]
    assert_error(api.get("/api/v1/orders", query_string={"q": "SO\u0000"}), 400)
    assert count(db, Product) == 1 and count(db, Order) == 0


def test_unicode_lookalikes_are_different_keys(api, shop, db):
    cyrillic = "\u041cUG"  # "МUG"
    assert_error(api.get(f"/api/v1/products/{cyrillic}"), 404)
    receipt = api.post("/api/v1/stock/receipts", json={"location": "AMS", "sku": cyrillic, "qty": 1})
    assert_error(receipt, 404)
    assert count(db, StockMove) == 1  # only the opening stock


def test_a_huge_body_is_refused_before_it_is_read(app, api, shop):
    app.config["API_MAX_BODY_BYTES"] = 64 * 1024
    body = {"sku": "BIG", "name": "x" * (100 * 1024), "unit_price": "1.00"}
    assert_error(api.post("/api/v1/products", json=body), 413, "too_large")
    lines = [{"sku": "MUG", "qty": 1, "unit_price": "1.00"}] * 501
    app.config["API_MAX_BODY_BYTES"] = 2 * 1024 * 1024
    assert "lines" in assert_error(api.post("/api/v1/orders", json=order_body(lines=lines)), 422)["details"]


def test_overlong_strings_are_refused_not_cut(api, shop, db):
    refused = assert_error(api.post("/api/v1/products", json={"sku": "S" * 65, "name": "x", "unit_price": "1"}), 422)
    assert "sku" in refused["details"]
    assert count(db, Product) == 1
