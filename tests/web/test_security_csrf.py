"""CSRF: every unsafe request from a browser session needs the token, plain forms and htmx
alike; API calls with a bearer token need none, API calls riding on the session do."""

from __future__ import annotations

import json
import re

import pytest

from app.models import Product, User
from tests.web.test_route_access import concrete_url

REFUSAL = "sent without a valid security token"


@pytest.fixture
def admin(app, login):
    """An admin session, then CSRF switched on (as in production) and the page's token at hand."""
    client = login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    home = client.get("/").text
    client.csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', home).group(1)
    return client


def unsafe_page_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            yield rule, method


def test_every_unsafe_page_route_refuses_a_plain_form_post_without_the_token(app, admin):
    routes = list(unsafe_page_routes(app))
    assert len(routes) > 30
    wrong = []
    for rule, method in routes:
        response = admin.open(concrete_url(rule), method=method, data={"name": "x"})
        if response.status_code != 400 or REFUSAL not in response.text or "<html" not in response.text:
            wrong.append(f"{method} {rule.rule}: {response.status_code}")
    assert not wrong, wrong


def test_every_unsafe_page_route_refuses_an_htmx_post_without_the_token(app, admin):
    wrong = []
    for rule, method in unsafe_page_routes(app):
        response = admin.open(concrete_url(rule), method=method, data={}, headers={"HX-Request": "true"})
        toast = json.loads(response.headers.get("HX-Trigger", "{}")).get("toast", {})
        if response.status_code != 400 or REFUSAL not in toast.get("message", "") or toast.get("level") != "error":
            wrong.append(f"{method} {rule.rule}: {response.status_code} {toast}")
    assert not wrong, wrong


def test_a_token_from_another_session_is_refused(app, admin, login, db):
    app.config["WTF_CSRF_ENABLED"] = False
    other = login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    response = other.post("/admin/users", headers={"X-CSRFToken": admin.csrf, "HX-Request": "true"},
                          data={"email": "forged@example.com", "role": "admin", "password": "a-long-password-1"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(User).where(User.email == "forged@example.com")) is None


@pytest.mark.parametrize(("url", "data"), [
    ("/admin/users", {"email": "made.here@example.com", "role": "ops", "password": "a-long-password-1"}),
    ("/admin/channels", {"code": "SHOP2", "name": "Second shop", "kind": "webstore", "dispatch_sla_hours": "48"}),
])
def test_the_refused_post_changed_nothing_and_the_same_post_with_the_token_works(db, admin, url, data):
    refused = admin.post(url, data=data)
    assert refused.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1  # only the admin
    with_field = admin.post(url, data={**data, "csrf_token": admin.csrf})
    assert with_field.status_code == 303


def test_htmx_sends_the_token_as_a_header_and_is_accepted(admin, db):
    response = admin.post("/admin/users", headers={"X-CSRFToken": admin.csrf, "HX-Request": "true"},
                          data={"email": "by.htmx@example.com", "role": "ops", "password": "a-long-password-1"})
    assert response.status_code == 200
    assert db.session.scalar(db.select(User.role).where(User.email == "by.htmx@example.com")) == "ops"


def test_signing_out_needs_the_token_too(admin):
    assert admin.post("/logout").status_code == 400
    assert admin.get("/").status_code == 200  # still signed in
    assert admin.post("/logout", data={"csrf_token": admin.csrf}).status_code == 302
    assert admin.get("/").status_code == 302


# API --------------------------------------------------------------------------------

PRODUCT = {"sku": "CSRF-1", "name": "Mug", "unit_price": "9.90"}


def test_api_calls_with_a_bearer_token_need_no_csrf_token(app, api):
    app.config["WTF_CSRF_ENABLED"] = True
    response = api.post("/api/v1/products", json=PRODUCT)
    assert response.status_code == 201, response.json


def test_api_calls_riding_on_the_browser_session_need_the_csrf_token(admin, db):
    refused = admin.post("/api/v1/products", json=PRODUCT)
    assert refused.status_code == 400
    assert refused.json["error"] == "csrf_failed" and REFUSAL in refused.json["message"]
    assert db.session.scalar(db.select(Product).where(Product.sku == "CSRF-1")) is None

    accepted = admin.post("/api/v1/products", json=PRODUCT, headers={"X-CSRFToken": admin.csrf})
    assert accepted.status_code == 201
    assert admin.get("/api/v1/products/CSRF-1").status_code == 200  # reads need no token


def test_an_invalid_bearer_token_does_not_fall_back_to_the_session_without_csrf(admin):
    response = admin.post("/api/v1/products", json=PRODUCT, headers={"Authorization": "Bearer od_not-a-token"})
    assert response.status_code == 400
    assert response.json["error"] == "csrf_failed"
