"""Signing in and out, CSRF, throttling, and the error pages a person sees."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Event
from tests.conftest import PASSWORD


def test_pages_need_login_and_return_after_it(client, make_user):
    user = make_user("ops")
    response = client.get("/orders/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    response = client.post(response.headers["Location"], data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/orders/"


def test_wrong_password_and_unknown_user_get_the_same_message(client, make_user):
    user = make_user("ops")
    wrong_password = client.post("/login", data={"email": user.email, "password": "not-the-password"})
    unknown_user = client.post("/login", data={"email": "nobody@example.com", "password": "whatever-123"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    message = b"That e-mail and password do not match an active account."
    assert message in wrong_password.data and message in unknown_user.data


def test_email_is_case_insensitive(client, make_user):
    user = make_user("ops", email="Mixed.Case@Example.com")
    response = client.post("/login", data={"email": "MIXED.case@example.COM", "password": PASSWORD})
    assert response.status_code == 302, user


def test_inactive_user_cannot_sign_in(client, make_user, db):
    user = make_user("ops")
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_open_redirect_is_refused(client, make_user):
    user = make_user("ops")
    response = client.post("/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_login_and_logout_are_audited(client, make_user, db):
    user = make_user("manager")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/logout")
    actions = db.session.scalars(
        select(Event.action).where(Event.entity_type == "user", Event.entity_id == user.email).order_by(Event.id)
    ).all()
    assert actions[-2:] == ["login", "logout"]


def test_logout_ends_the_session(login):
    client = login("ops")
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_repeated_failures_are_rate_limited_but_success_is_not_counted(app, client, make_user):
    app.config["LOGIN_RATE_LIMIT"] = "3 per 5 minutes"
    user = make_user("ops")
    for _ in range(2):
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
        client.post("/logout")
    for _ in range(3):
        assert client.post("/login", data={"email": user.email, "password": "bad-password"}).status_code == 401
    blocked = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert b"Too many failed sign-in attempts" in blocked.data


def test_post_without_csrf_token_is_refused_with_a_clear_message(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("ops")
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert b"security token" in response.data


def test_htmx_post_with_csrf_header_is_accepted(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("ops")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    home = client.get("/").get_data(as_text=True)
    header_token = home.split('<meta name="csrf-token" content="')[1].split('"')[0]
    response = client.post("/logout", headers={"X-CSRFToken": header_token, "HX-Request": "true"})
    assert response.status_code == 302
    assert client.post("/logout", headers={"HX-Request": "true"}).status_code in (302, 400, 401)


def test_csrf_tokens_last_a_working_day(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] >= 12 * 3600


def test_unknown_page_is_a_404_page(login):
    response = login("ops").get("/no-such-page")
    assert response.status_code == 404
    assert b"Not found" in response.data and b"<html" in response.data


def test_forbidden_page_explains(login):
    response = login("ops").get("/admin/")
    assert response.status_code == 403
    assert b"Not allowed" in response.data


def test_server_error_page_hides_details(app, login):
    @app.get("/boom-test")
    def boom():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = login("ops").get("/boom-test")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data and b"secret internals" not in response.data


def test_htmx_request_with_expired_session_redirects_the_window(client):
    response = client.get("/orders/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_pages_vary_on_hx_request(login):
    response = login("ops").get("/")
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(("role", "visible", "hidden"), [
    ("ops", ["Orders", "Inventory", "Fulfillment", "Returns"], ["Documents", "SLA", "Admin"]),
    ("finance", ["Orders", "Returns", "Documents"], ["Inventory", "Fulfillment", "SLA", "Admin"]),
    ("manager", ["Orders", "Inventory", "SLA", "Documents"], ["Admin"]),
    ("admin", ["Orders", "Inventory", "Fulfillment", "Returns", "Documents", "SLA", "Admin"], []),
])
def test_navigation_shows_only_allowed_sections(login, role, visible, hidden):
    nav = login(role).get("/").get_data(as_text=True).split('<nav class="mainnav"')[1].split("</nav>")[0]
    for label in visible:
        assert f">{label}</a>" in nav
    for label in hidden:
        assert f">{label}</a>" not in nav
