"""Every registered route, every method, every role: the expected answer is written down here.

A new route that is not covered by this table fails the test, so nobody can add a
page without deciding who may open it.
"""

from __future__ import annotations

import re

import pytest

ROLES = ("ops", "finance", "manager", "admin")
ALL = frozenset(ROLES)
OPS_UP = frozenset({"ops", "manager", "admin"})

# Who may open each dashboard section (DESIGN.md §1; app/domain/roles.py must agree).
SECTIONS = {
    "orders": frozenset({"ops", "finance", "manager", "admin"}),
    "inventory": frozenset({"ops", "manager", "admin"}),
    "fulfillment": frozenset({"ops", "manager", "admin"}),
    "returns": frozenset({"ops", "finance", "manager", "admin"}),
    "documents": frozenset({"finance", "manager", "admin"}),
    "sla": frozenset({"manager", "admin"}),
    "admin": frozenset({"admin"}),
}

# Endpoints reachable without signing in.
PUBLIC = {"auth.login", "main.healthz", "static", "api-docs.openapi_json"}

# Endpoints outside the sections, with the roles that may use them; API writes are
# narrower than API reads. Keys are "endpoint METHOD".
EXPLICIT = {
    "main.home GET": ALL,
    "auth.logout POST": ALL,
    "api_products.list_products GET": ALL,
    "api_products.get_product GET": ALL,
    "api_products.create_product POST": frozenset({"admin", "manager"}),
    "api_locations.list_locations GET": ALL,
    "api_locations.create_location POST": frozenset({"admin"}),
    "api_channels.list_channels GET": ALL,
    "api_channels.create_channel POST": frozenset({"admin"}),
    "api_stock.list_stock GET": ALL,
    "api_stock.receipt POST": OPS_UP,
    "api_stock.adjustment POST": OPS_UP,
    "api_stock.transfer POST": OPS_UP,
    "api_orders.create_order POST": OPS_UP,
    "api_orders.list_orders GET": ALL,
    "api_orders.get_order GET": ALL,
    "api_orders.record_payment POST": ALL,
    "api_orders.transition POST": OPS_UP,
    "api_orders.cancel POST": OPS_UP,
    # Fulfillment and documents: ops ship, finance (and managers, admins) read documents.
    "api_shipments.create_shipment POST": OPS_UP,
    "api_shipments.deliver POST": OPS_UP,
    "api_invoices.list_invoices GET": frozenset({"finance", "manager", "admin"}),
    "api_invoices.get_invoice GET": frozenset({"finance", "manager", "admin"}),
    # Checking the books is a manager's job; ops work the stock itself.
    "inventory.verify GET": frozenset({"manager", "admin"}),
    "api_notifications.list_notifications GET": ALL,
    # Order changes on the dashboard: finance reads orders and records payments only.
    "orders.move POST": OPS_UP,
    "orders.hold POST": OPS_UP,
    "orders.release POST": OPS_UP,
    "orders.cancel POST": OPS_UP,
    "orders.edit_address POST": OPS_UP,
    "orders.bulk POST": OPS_UP,
    "orders.import_form GET": OPS_UP,
    "orders.import_upload POST": OPS_UP,
    "orders.import_confirm POST": OPS_UP,
    "orders.import_job GET": OPS_UP,
}


def expected_roles(endpoint: str, method: str) -> frozenset[str] | None:
    key = f"{endpoint} {method}"
    if key in EXPLICIT:
        return EXPLICIT[key]
    blueprint = endpoint.split(".")[0]
    if blueprint in SECTIONS:
        return SECTIONS[blueprint]
    return None


def concrete_url(rule) -> str:
    """Fill every URL variable with a value that routes (the object need not exist)."""
    url = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        value = "1" if converter in ("IntegerConverter", "NumberConverter") else "X-1"
        url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", value, url)
    return url


def all_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_in_the_table(app):
    missing = [f"{r.endpoint} {m} ({r.rule})" for r, m in all_routes(app) if expected_roles(r.endpoint, m) is None]
    assert not missing, "routes without an access decision: " + ", ".join(missing)


def test_section_table_matches_domain_roles():
    from app.domain.roles import SECTION_ROLES

    assert {s: frozenset(r.value for r in roles) for s, roles in SECTION_ROLES.items()} == SECTIONS


def _call(client, method: str, url: str, headers=None):
    return client.open(url, method=method, headers=headers or {}, data={} if method != "GET" else None)


def test_anonymous_is_sent_to_login_or_refused(app, client):
    for rule, method in all_routes(app):
        url = concrete_url(rule)
        response = _call(client, method, url)
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.json["error"] == "unauthorized"
        else:
            assert response.status_code in (302, 401), (method, url, response.status_code)
            if response.status_code == 302:
                assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_table_says(app, login, role):
    client = login(role)
    checked = 0
    for rule, method in all_routes(app):
        if rule.endpoint == "auth.logout":
            continue  # would end the session under test; covered in test_auth
        allowed = role in expected_roles(rule.endpoint, method)
        url = concrete_url(rule)
        response = _call(client, method, url)
        checked += 1
        if allowed:
            assert response.status_code not in (401, 403, 500), (role, method, url, response.status_code)
        else:
            assert response.status_code == 403, (role, method, url, response.status_code)
    assert checked > 10


@pytest.mark.parametrize("role", ROLES)
def test_api_tokens_carry_their_users_role(app, api_as, role):
    api = api_as(role)
    for rule, method in all_routes(app):
        if not rule.rule.startswith("/api/"):
            continue
        allowed = role in expected_roles(rule.endpoint, method)
        response = api.open(concrete_url(rule), method=method, json={} if method != "GET" else None)
        if allowed:
            assert response.status_code not in (401, 403, 500), (role, method, rule.rule, response.status_code)
        else:
            assert response.status_code == 403, (role, method, rule.rule, response.status_code)
            assert response.json["error"] == "forbidden"
