"""The API skeleton: authentication, error bodies, catalog endpoints, pagination, OpenAPI."""

from __future__ import annotations

from app.services import users
from app.services.actors import Actor


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.data
    body = response.json
    assert set(body) <= {"error", "message", "details"} and body["message"], body
    if code:
        assert body["error"] == code
    return body


def test_no_token_is_401_json(client):
    assert_error(client.get("/api/v1/products"), 401, "unauthorized")


def test_malformed_authorization_header_is_401(client):
    assert_error(client.get("/api/v1/products", headers={"Authorization": "Token abc"}), 401)


def test_revoked_token_is_401(app, api, db):
    assert api.get("/api/v1/products").status_code == 200
    token = db.session.scalars(db.select(users.ApiToken)).first()
    users.revoke_token(token.id, actor=Actor.cli())
    assert_error(api.get("/api/v1/products"), 401, "unauthorized")


def test_deactivated_users_token_is_401(api, db):
    token = db.session.scalars(db.select(users.ApiToken)).first()
    other_admin = users.create_user(email="second@example.com", name="Second", role="admin",
                                    password="long-enough-pw", actor=Actor.cli())
    users.set_active(token.user_id, False, actor=Actor.for_user(other_admin))
    assert_error(api.get("/api/v1/products"), 401)


def test_unknown_api_path_is_json_404(api):
    assert_error(api.get("/api/v1/nothing-here"), 404, "not_found")


def test_openapi_document_is_public_and_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/products", "/api/v1/products/{sku}", "/api/v1/locations", "/api/v1/channels",
                 "/api/v1/stock"):
        assert path in spec["paths"], path
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_create_and_read_a_product_money_as_string(api):
    created = api.post("/api/v1/products", json={"sku": "MUG-1", "name": "Mug", "unit_price": "12.50"})
    assert created.status_code == 201
    assert created.json["unit_price"] == "12.50"
    fetched = api.get("/api/v1/products/MUG-1")
    assert fetched.json == created.json
    assert {"sku", "name", "unit_price", "active"} <= set(fetched.json)


def test_duplicate_sku_is_409(api):
    api.post("/api/v1/products", json={"sku": "MUG-1", "name": "Mug", "unit_price": "12.50"})
    body = assert_error(api.post("/api/v1/products", json={"sku": "MUG-1", "name": "Mug", "unit_price": "1"}), 409)
    assert "MUG-1" in body["message"]


def test_invalid_product_is_422_with_field_messages(api):
    body = assert_error(api.post("/api/v1/products", json={"sku": "bad sku!", "unit_price": "-1"}), 422)
    assert "name" in body["details"] and "unit_price" in body["details"]


def test_too_many_decimals_is_422(api):
    body = assert_error(api.post("/api/v1/products", json={"sku": "X-1", "name": "X", "unit_price": "1.999"}), 422)
    assert "unit_price" in body["details"]


def test_malformed_json_is_400(api):
    assert_error(api.post("/api/v1/products", data="{not json", content_type="application/json"), 400)


def test_unknown_product_is_404(api):
    assert_error(api.get("/api/v1/products/NOPE"), 404, "not_found")


def test_locations_and_channels(api):
    loc = api.post("/api/v1/locations", json={"code": "AMS", "name": "Amsterdam", "regions": ["nl", "be"],
                                              "priority": 1, "timezone": "Europe/Amsterdam"})
    assert loc.status_code == 201
    assert loc.json == {"code": "AMS", "name": "Amsterdam", "kind": "warehouse", "regions": ["NL", "BE"],
                        "priority": 1, "timezone": "Europe/Amsterdam", "active": True}
    assert_error(api.post("/api/v1/locations", json={"code": "X", "name": "X", "timezone": "Mars/Base"}), 422)
    ch = api.post("/api/v1/channels", json={"code": "web", "name": "Web store", "kind": "webstore"})
    assert ch.status_code == 201 and ch.json["dispatch_sla_hours"] == 72
    listed = api.get("/api/v1/channels").json
    assert [c["code"] for c in listed["items"]] == ["web"] and listed["next_cursor"] is None


def test_lists_are_cursor_paginated_without_gaps_or_repeats(api):
    for i in range(7):
        api.post("/api/v1/products", json={"sku": f"SKU-{i:02d}", "name": f"P{i}", "unit_price": "1.00"})
    seen, cursor = [], None
    while True:
        query = "/api/v1/products?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query).json
        assert len(page["items"]) <= 3
        seen += [p["sku"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"SKU-{i:02d}" for i in range(7)]


def test_garbage_cursor_is_422(api):
    assert_error(api.get("/api/v1/products?cursor=%%%garbage"), 422)


def test_stock_levels_shape(api, db):
    from app.models import Location, Product, StockLevel

    api.post("/api/v1/products", json={"sku": "MUG-1", "name": "Mug", "unit_price": "12.50"})
    api.post("/api/v1/locations", json={"code": "AMS", "name": "Amsterdam"})
    product = db.session.scalar(db.select(Product))
    location = db.session.scalar(db.select(Location))
    db.session.add(StockLevel(product_id=product.id, location_id=location.id, on_hand=10, reserved=3))
    db.session.commit()
    body = api.get("/api/v1/stock?sku=MUG-1").json
    assert body == {"items": [{"sku": "MUG-1", "location": "AMS", "on_hand": 10, "reserved": 3, "available": 7}],
                    "next_cursor": None}


def test_session_cookie_api_calls_need_csrf(app, login):
    client = login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/api/v1/channels", json={"code": "web", "name": "Web"})
    assert_error(response, 400, "csrf_failed")
    assert client.get("/api/v1/channels").status_code == 200


def test_cursor_from_another_list_is_422_not_500(api):
    import base64
    import json

    foreign = base64.urlsafe_b64encode(json.dumps([{"dt": "2026-01-01T00:00:00+00:00"}]).encode()).decode()
    api.post("/api/v1/locations", json={"code": "AMS", "name": "Amsterdam"})
    response = api.get(f"/api/v1/orders?cursor={foreign.rstrip('=')}")
    # PostgreSQL refuses to compare an id with a date (422); SQLite compares anything (an empty page).
    assert response.status_code in (200, 422)
    assert response.json.get("items") == [] or response.json["error"] == "validation_error"
