"""The admin section as an admin (and everyone else) meets it: users, roles, API tokens,
sales channels and locations, as plain form posts and as htmx fragments."""

from __future__ import annotations

import re

import pytest

from app.models import ApiToken
from app.services import users as users_service
from app.services.actors import Actor
from tests.conftest import PASSWORD

HX = {"HX-Request": "true"}


def sign_in(app, email: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    return client, response


def new_user_form(**overrides) -> dict:
    return {"email": "new.person@example.com", "name": "New Person", "role": "finance",
            "password": "a-long-password-1", **overrides}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def issued_token(response) -> str:
    match = re.search(r'<code class="secret" data-testid="new-token">([^<]+)</code>', response.get_data(as_text=True))
    assert match, "the new token is not shown"
    return match.group(1)


# Users -------------------------------------------------------------------------


def test_overview_links_to_every_admin_page(login):
    page = login("admin").get("/admin/").get_data(as_text=True)
    for href in ('href="/admin/users"', 'href="/admin/channels"', 'href="/admin/locations"'):
        assert href in page


def test_admin_creates_a_user_who_can_then_sign_in(app, login):
    admin = login("admin")
    response = admin.post("/admin/users", data=new_user_form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"

    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "new.person@example.com" in listing
    assert "Created new.person@example.com (finance)." in listing  # the flashed message

    _, signed_in = sign_in(app, "new.person@example.com", "a-long-password-1")
    assert signed_in.status_code == 302


def test_duplicate_email_is_refused_and_the_form_keeps_what_was_typed(login, make_user):
    make_user("ops", email="taken@example.com")
    admin = login("admin")
    response = admin.post("/admin/users", data=new_user_form(email="taken@example.com", name="Second Person",
                                                             role="manager", password="typed-secret-99"))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "A user with the e-mail taken@example.com already exists." in page
    assert "Already in use." in page
    assert 'value="taken@example.com"' in page
    assert 'value="Second Person"' in page
    assert re.search(r'<option selected value="manager">|<option value="manager" selected>', page)
    # The password is deliberately not sent back into the page.
    assert "typed-secret-99" not in page


def test_too_short_password_is_explained_next_to_the_form(login):
    admin = login("admin")
    response = admin.post("/admin/users", data=new_user_form(password="short"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The password must be at least 12 characters long." in page
    assert 'value="new.person@example.com"' in page
    assert users_service.find_by_email("new.person@example.com") is None


def test_changing_the_role_changes_what_the_user_can_open(app, login, make_user):
    person = make_user("ops")
    client, _ = sign_in(app, person.email)
    assert client.get("/admin/").status_code == 403

    admin = login("admin")
    assert admin.post(f"/admin/users/{person.id}/role", data={"role": "admin"}).status_code == 303
    assert client.get("/admin/users").status_code == 200  # takes effect without signing in again

    assert admin.post(f"/admin/users/{person.id}/role", data={"role": "finance"}).status_code == 303
    assert client.get("/admin/users").status_code == 403


def test_the_last_admin_keeps_the_role(login):
    admin = login("admin")
    response = admin.post(f"/admin/users/{admin.user.id}/role", data={"role": "ops"})
    assert response.status_code == 409
    assert "last active admin" in response.get_data(as_text=True)
    assert admin.get("/admin/").status_code == 200


def test_unknown_role_is_refused(login, make_user):
    person = make_user("ops")
    response = login("admin").post(f"/admin/users/{person.id}/role", data={"role": "superuser"})
    assert response.status_code == 422
    assert "Choose one of the listed roles." in response.get_data(as_text=True)


def test_deactivating_a_user_blocks_sign_in_and_revokes_their_tokens(app, db, login, make_user):
    person = make_user("ops")
    _, token = users_service.issue_token(person.id, "sync", actor=Actor.cli())
    api = app.test_client()
    assert api.get("/api/v1/products", headers=bearer(token)).status_code == 200

    admin = login("admin")
    assert admin.post(f"/admin/users/{person.id}/deactivate").status_code == 303

    _, attempt = sign_in(app, person.email)
    assert attempt.status_code != 302
    assert api.get("/api/v1/products", headers=bearer(token)).status_code == 401
    db.session.expire_all()
    assert all(t.revoked_at is not None for t in db.session.get(type(person), person.id).tokens)

    # Activating again lets them sign in, but old tokens stay revoked.
    assert admin.post(f"/admin/users/{person.id}/activate").status_code == 303
    assert sign_in(app, person.email)[1].status_code == 302
    assert api.get("/api/v1/products", headers=bearer(token)).status_code == 401


def test_an_admin_cannot_deactivate_their_own_account(login):
    admin = login("admin")
    response = admin.post(f"/admin/users/{admin.user.id}/deactivate")
    assert response.status_code == 409
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert admin.get("/admin/").status_code == 200


def test_admin_sets_a_new_password(app, login, make_user):
    person = make_user("finance")
    admin = login("admin")
    too_short = admin.post(f"/admin/users/{person.id}/password", data={"password": "short"})
    assert too_short.status_code == 422
    assert "at least 12 characters" in too_short.get_data(as_text=True)

    assert admin.post(f"/admin/users/{person.id}/password", data={"password": "brand-new-pass-1"}).status_code == 303
    assert sign_in(app, person.email)[1].status_code != 302
    assert sign_in(app, person.email, "brand-new-pass-1")[1].status_code == 302


def test_unknown_user_page_is_not_found(login):
    assert login("admin").get("/admin/users/999999").status_code == 404


# API tokens --------------------------------------------------------------------


def test_issued_token_is_shown_once_and_works_until_revoked(app, db, login, make_user):
    person = make_user("ops")
    admin = login("admin")
    response = admin.post(f"/admin/users/{person.id}/tokens", data={"name": "shop sync"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    token = issued_token(response)
    assert "shown only this once" in response.get_data(as_text=True)

    again = admin.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert token not in again
    assert "shop sync" in again and token[:10] in again

    api = app.test_client()
    assert api.get("/api/v1/products", headers=bearer(token)).status_code == 200

    token_id = db.session.scalar(db.select(ApiToken.id).where(ApiToken.user_id == person.id))
    revoked = admin.post(f"/admin/users/{person.id}/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    assert api.get("/api/v1/products", headers=bearer(token)).status_code == 401


def test_a_token_cannot_be_revoked_through_another_users_page(db, login, make_user):
    owner, other = make_user("ops"), make_user("ops")
    token, plain = users_service.issue_token(owner.id, "sync", actor=Actor.cli())
    admin = login("admin")
    assert admin.post(f"/admin/users/{other.id}/tokens/{token.id}/revoke").status_code == 404
    assert users_service.user_for_token(plain) is not None


def test_inactive_user_gets_no_token(login, make_user):
    person = make_user("ops")
    admin = login("admin")
    admin.post(f"/admin/users/{person.id}/deactivate")
    response = admin.post(f"/admin/users/{person.id}/tokens", data={"name": "x"})
    assert response.status_code == 409
    assert "An inactive user cannot get an API token." in response.get_data(as_text=True)
    assert 'class="secret"' not in response.get_data(as_text=True)


# Channels and locations ----------------------------------------------------------


def test_created_channel_appears_in_the_list(login):
    admin = login("admin")
    response = admin.post("/admin/channels", data={"code": "WEB", "name": "Web shop", "kind": "webstore",
                                                   "dispatch_sla_hours": "48"})
    assert response.status_code == 303
    page = admin.get("/admin/channels").get_data(as_text=True)
    assert 'id="channel-WEB"' in page and "Web shop" in page and "48" in page


def test_duplicate_channel_code_keeps_the_form(login):
    admin = login("admin")
    admin.post("/admin/channels", data={"code": "WEB", "name": "Web shop", "kind": "webstore",
                                        "dispatch_sla_hours": "72"})
    response = admin.post("/admin/channels", data={"code": "WEB", "name": "Another shop", "kind": "marketplace",
                                                   "dispatch_sla_hours": "24"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "A channel with code WEB already exists." in page
    assert 'value="Another shop"' in page and 'value="24"' in page


def test_created_location_appears_in_the_list(login):
    admin = login("admin")
    response = admin.post("/admin/locations", data={
        "code": "AMS-1", "name": "Amsterdam DC", "kind": "warehouse", "regions": "nl, be ,",
        "priority": "10", "timezone": "Europe/Amsterdam", "cutoff_time": "17:30",
    })
    assert response.status_code == 303
    page = admin.get("/admin/locations").get_data(as_text=True)
    row = re.search(r'<tr id="location-AMS-1".*?</tr>', page, re.S).group(0)
    for shown in ("Amsterdam DC", "warehouse", "NL, BE", "10", "Europe/Amsterdam", "17:30"):
        assert shown in row


def test_unknown_timezone_is_explained_next_to_the_field(login):
    response = login("admin").post("/admin/locations", data={
        "code": "X1", "name": "Somewhere", "kind": "store", "regions": "", "priority": "5",
        "timezone": "Mars/Olympus", "cutoff_time": "16:00",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Unknown timezone “Mars/Olympus”" in page
    assert 'value="Somewhere"' in page


# Who may open what ------------------------------------------------------------------


def admin_urls(app, user_id: int, token_id: int):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            url = rule.rule.replace("<int:user_id>", str(user_id)).replace("<int:token_id>", str(token_id))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield method, url


@pytest.mark.parametrize("role", ["ops", "finance", "manager"])
def test_other_roles_get_403_on_every_admin_page_and_action(app, login, make_user, role):
    target = make_user("ops")
    token, plain = users_service.issue_token(target.id, "sync", actor=Actor.cli())
    client = login(role)
    urls = list(admin_urls(app, target.id, token.id))
    assert len(urls) >= 13
    for method, url in urls:
        response = client.open(url, method=method, data={"role": "admin", "password": "x" * 12, **new_user_form()})
        assert response.status_code == 403, (method, url)
    assert users_service.find_by_email("new.person@example.com") is None
    assert users_service.user_for_token(plain) is not None


def test_admin_views_also_check_the_role_themselves(app):
    for name, view in app.view_functions.items():
        if name.startswith("admin."):
            assert view.required_roles == frozenset({"admin"}), name


def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused(app, login):
    admin = login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    page = admin.get("/admin/channels").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = {"code": "POS", "name": "Shop floor", "kind": "pos", "dispatch_sla_hours": "24"}
    assert admin.post("/admin/channels", data=body).status_code == 400
    assert admin.post("/admin/channels", data={**body, "csrf_token": csrf}).status_code == 303


# htmx: the same URLs answer with the region they change ------------------------------


def test_htmx_get_gets_the_region_not_the_page(login):
    response = login("admin").get("/admin/users", headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in page and page.lstrip().startswith('<div id="users-body"')
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_role_change_answers_with_the_row_and_a_toast(login, make_user):
    person = make_user("ops")
    response = login("admin").post(f"/admin/users/{person.id}/role", data={"role": "finance"}, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith(f'<tr id="user-{person.id}"')
    assert '<option value="finance" selected>' in page
    assert "is now finance" in response.headers["HX-Trigger"]


def test_htmx_refusal_swaps_the_form_with_its_error(login, make_user):
    make_user("ops", email="taken@example.com")
    response = login("admin").post("/admin/users", data=new_user_form(email="taken@example.com"), headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "<html" not in page and "already exists" in page and 'value="New Person"' in page


def test_htmx_token_issue_and_revoke_swap_the_token_panel(app, login, make_user):
    person = make_user("ops")
    admin = login("admin")
    issued = admin.post(f"/admin/users/{person.id}/tokens", data={"name": "erp"}, headers=HX)
    assert issued.get_data(as_text=True).lstrip().startswith('<section id="tokens-panel"')
    token = issued_token(issued)
    token_id = users_service.get_user(person.id).tokens[0].id
    revoked = admin.post(f"/admin/users/{person.id}/tokens/{token_id}/revoke", headers=HX)
    assert revoked.status_code == 200
    assert "<html" not in revoked.get_data(as_text=True)
    assert app.test_client().get("/api/v1/products", headers=bearer(token)).status_code == 401
