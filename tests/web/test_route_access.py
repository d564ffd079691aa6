"""Every registered route, every method, every role: the expected answer is written down here.

A new route that is not covered by this table fails the test, so nobody can add a
page without deciding who may open it.
"""

from __future__ import annotations

import re

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

# THE table: every "endpoint METHOD" the app registers (except PUBLIC), with the roles that
# may use it. API writes are narrower than API reads. A route that is not listed fails
# test_every_route_is_in_the_table, so nobody adds a route without deciding who may use it.
EXPLICIT = {
    "main.home GET": ALL,
    "auth.logout POST": ALL,
    # orders section
    "orders.board GET": SECTIONS["orders"],
    "orders.board_changes GET": SECTIONS["orders"],
    "orders.customer GET": SECTIONS["orders"],
    "orders.detail GET": SECTIONS["orders"],
    "orders.index GET": SECTIONS["orders"],
    "orders.record_payment POST": SECTIONS["orders"],
    # inventory section
    "inventory.adjust POST": SECTIONS["inventory"],
    "inventory.adjust_form GET": SECTIONS["inventory"],
    "inventory.count_import POST": SECTIONS["inventory"],
    "inventory.count_preview POST": SECTIONS["inventory"],
    "inventory.counts GET": SECTIONS["inventory"],
    "inventory.export_csv GET": SECTIONS["inventory"],
    "inventory.index GET": SECTIONS["inventory"],
    "inventory.ledger GET": SECTIONS["inventory"],
    "inventory.receive POST": SECTIONS["inventory"],
    "inventory.receive_form GET": SECTIONS["inventory"],
    "inventory.routing GET": SECTIONS["inventory"],
    "inventory.routing_apply POST": SECTIONS["inventory"],
    "inventory.routing_preview_orders POST": SECTIONS["inventory"],
    "inventory.transfer POST": SECTIONS["inventory"],
    "inventory.transfer_form GET": SECTIONS["inventory"],
    # fulfillment section
    "fulfillment.abort POST": SECTIONS["fulfillment"],
    "fulfillment.accept_parcel POST": SECTIONS["fulfillment"],
    "fulfillment.create_wave POST": SECTIONS["fulfillment"],
    "fulfillment.deliver POST": SECTIONS["fulfillment"],
    "fulfillment.dismiss_parcel POST": SECTIONS["fulfillment"],
    "fulfillment.index GET": SECTIONS["fulfillment"],
    "fulfillment.packing_slip_pdf GET": SECTIONS["fulfillment"],
    "fulfillment.pick_list_pdf GET": SECTIONS["fulfillment"],
    "fulfillment.queue GET": SECTIONS["fulfillment"],
    "fulfillment.scan POST": SECTIONS["fulfillment"],
    "fulfillment.ship POST": SECTIONS["fulfillment"],
    "fulfillment.shipment GET": SECTIONS["fulfillment"],
    "fulfillment.wave GET": SECTIONS["fulfillment"],
    # returns section
    "returns.index GET": SECTIONS["returns"],
    "returns.detail GET": SECTIONS["returns"],
    # Ops handle returned goods; money goes back through finance; the report is for finance and managers.
    "returns.new GET": OPS_UP,
    "returns.create POST": OPS_UP,
    "returns.approve POST": OPS_UP,
    "returns.reject POST": OPS_UP,
    "returns.cancel POST": OPS_UP,
    "returns.receive POST": OPS_UP,
    "returns.exchange POST": OPS_UP,
    "returns.refund POST": frozenset({"finance", "manager", "admin"}),
    "returns.report GET": frozenset({"finance", "manager", "admin"}),
    "returns.report_csv GET": frozenset({"finance", "manager", "admin"}),
    "api_returns.create_return POST": OPS_UP,
    "api_returns.list_returns GET": ALL,
    "api_returns.get_return GET": ALL,
    # One door for every move; the service refuses a refund by ops (403) and receiving by finance.
    "api_returns.transition POST": ALL,
    # documents section
    "documents.audit GET": SECTIONS["documents"],
    "documents.credit POST": SECTIONS["documents"],
    "documents.detail GET": SECTIONS["documents"],
    "documents.export_download GET": SECTIONS["documents"],
    "documents.export_status GET": SECTIONS["documents"],
    "documents.index GET": SECTIONS["documents"],
    "documents.invoice_pdf GET": SECTIONS["documents"],
    "documents.start_export POST": SECTIONS["documents"],
    # sla section
    "sla.export GET": SECTIONS["sla"],
    "sla.index GET": SECTIONS["sla"],
    "sla.outbox GET": SECTIONS["sla"],
    "sla.report_csv GET": SECTIONS["sla"],
    "sla.reports_page GET": SECTIONS["sla"],
    "sla.resend POST": SECTIONS["sla"],
    # admin section
    "admin.activate_user POST": SECTIONS["admin"],
    "admin.add_holiday POST": SECTIONS["admin"],
    "admin.change_role POST": SECTIONS["admin"],
    "admin.channel_sla GET": SECTIONS["admin"],
    "admin.channels GET": SECTIONS["admin"],
    "admin.create_channel POST": SECTIONS["admin"],
    "admin.create_location POST": SECTIONS["admin"],
    "admin.create_user POST": SECTIONS["admin"],
    "admin.deactivate_user POST": SECTIONS["admin"],
    "admin.index GET": SECTIONS["admin"],
    "admin.issue_token POST": SECTIONS["admin"],
    "admin.location_calendar GET": SECTIONS["admin"],
    "admin.locations GET": SECTIONS["admin"],
    "admin.remove_holiday POST": SECTIONS["admin"],
    "admin.revoke_token POST": SECTIONS["admin"],
    "admin.set_password POST": SECTIONS["admin"],
    "admin.update_channel_sla POST": SECTIONS["admin"],
    "admin.update_location_calendar POST": SECTIONS["admin"],
    "admin.user_detail GET": SECTIONS["admin"],
    "admin.users_list GET": SECTIONS["admin"],
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
    return EXPLICIT.get(f"{endpoint} {method}")


def concrete_url(rule) -> str:
    """Fill every URL variable with a value that routes (the object need not exist)."""
    url = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        # An id nobody has: an allowed call answers 404 or 422 and changes nothing (not even
        # the users the walk signs in with), a refused one 403 before the lookup.
        value = "999999" if converter in ("IntegerConverter", "NumberConverter") else "X-1"
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
    registered = {f"{r.endpoint} {m}" for r, m in all_routes(app)}
    stale = sorted(set(EXPLICIT) - registered)
    assert not stale, "table entries for routes that no longer exist: " + ", ".join(stale)


def test_section_table_matches_domain_roles():
    from app.domain.roles import SECTION_ROLES

    assert {s: frozenset(r.value for r in roles) for s, roles in SECTION_ROLES.items()} == SECTIONS


def _call(client, method: str, url: str, headers=None):
    return client.open(url, method=method, headers=headers or {}, data={} if method != "GET" else None)


def _routes_logout_last(app):
    """Every rule and method, PUBLIC ones included; signing out last, as it ends the session."""
    routes = [(rule, method) for rule in app.url_map.iter_rules()
              for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(routes, key=lambda rm: rm[0].endpoint == "auth.logout")


def _verdict(response, *, api: bool) -> str:
    """What the caller met: 'login' (sent to sign in), 'forbidden', 'error' or 'allowed'."""
    status = response.status_code
    # Sent to the login page remembering where they were (signing out also ends on /login, without next=).
    if status == 401 or (status == 302 and "/login?next=" in response.headers.get("Location", "")):
        if api and (response.json or {}).get("error") != "unauthorized":
            return "login without the JSON error body"
        return "login"
    if status == 403:
        if api and (response.json or {}).get("error") != "forbidden":
            return "forbidden without the JSON error body"
        return "forbidden"
    if status >= 500:
        return "error"
    return "allowed"


def _expected(endpoint: str, method: str, role: str | None, *, api: bool, via: str) -> str:
    if endpoint in PUBLIC:
        return "allowed"
    # A bearer token counts under /api/ only: on a page it signs nobody in.
    if role is None or (via == "token" and not api):
        return "login"
    return "allowed" if role in expected_roles(endpoint, method) else "forbidden"


def test_every_route_method_and_caller_gets_what_the_table_says(app, client, login, api_as):
    """One walk: every registered route and method, as anonymous, as each role's session
    and as each role's API token, against EXPLICIT. All differences are reported at once."""
    callers = [("anonymous", None, "none", client)]
    callers += [(f"{role} session", role, "session", login(role)) for role in ROLES]
    callers += [(f"{role} token", role, "token", api_as(role)) for role in ROLES]
    differences, calls = [], 0
    for name, role, via, caller in callers:
        for rule, method in _routes_logout_last(app):
            if expected_roles(rule.endpoint, method) is None and rule.endpoint not in PUBLIC:
                continue  # reported by test_every_route_is_in_the_table
            url = concrete_url(rule)
            api = url.startswith("/api/")
            response = _call(caller, method, url)
            calls += 1
            want = _expected(rule.endpoint, method, role, api=api, via=via)
            got = _verdict(response, api=api)
            if got != want:
                differences.append(f"{name}: {method} {url} ({rule.endpoint}) expected {want}, got {got} "
                                   f"({response.status_code})")
    assert calls > 9 * 90
    assert not differences, f"{len(differences)} differences from the table:\n" + "\n".join(differences)
