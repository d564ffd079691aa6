"""Security headers and cookie flags, as a browser receives them, in the test and the
production configuration; and the templates staying within the Content-Security-Policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app
from config import ProductionConfig
from tests.conftest import PASSWORD

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
HTTPS = "https://orderdeck.example"


def csp(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def test_every_page_carries_the_security_headers(login):
    response = login("ops").get("/orders/")
    assert response.status_code == 200
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["Permissions-Policy"] and "geolocation=()" in headers["Permissions-Policy"]
    policy = csp(response)
    assert policy["script-src"] == policy["style-src"] == policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in headers["Content-Security-Policy"]


def test_login_page_json_api_and_errors_carry_them_too(client, api):
    for response in (client.get("/login"), api.get("/api/v1/products"), client.get("/api/v1/products"),
                     client.get("/api/v1/openapi.json")):
        assert "script-src 'self'" in response.headers["Content-Security-Policy"], response.request.path
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_plain_http_in_development_gets_no_hsts_and_is_not_redirected(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_test_and_development_cookies_are_httponly_and_samesite_lax(app, make_user, client):
    user = make_user("ops")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]


@pytest.fixture
def production_app(app, migrated):
    """The production configuration on the test database (the `app` fixture empties it afterwards)."""
    config = type("ProductionOnTestDb", (ProductionConfig,), {
        "SQLALCHEMY_DATABASE_URI": migrated,
        "SECRET_KEY": "production-test-key",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    prod = create_app(config)
    yield prod
    with prod.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_production_cookies_are_secure_httponly_and_samesite_lax(production_app, make_user):
    user = make_user("ops")
    client = production_app.test_client()
    form = client.get("/login", base_url=HTTPS)
    assert form.status_code == 200
    # Over HTTPS Flask-WTF also checks that the form came from this site (browsers send Referer).
    response = client.post("/login", base_url=HTTPS, headers={"Referer": f"{HTTPS}/login"}, data={
        "email": user.email, "password": PASSWORD, "remember": "y", "csrf_token": _csrf_token(form.text)})
    assert response.status_code == 302
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert set(cookies) >= {"session", "remember_token"}
    for name in ("session", "remember_token"):
        flags = [part.strip() for part in cookies[name].split(";")]
        assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(flags), cookies[name]


def test_production_redirects_plain_http_and_sends_hsts_over_https(production_app):
    client = production_app.test_client()
    plain = client.get("/login")
    assert plain.status_code == 302
    assert plain.headers["Location"].startswith("https://")
    secure = client.get("/login", base_url=HTTPS)
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    behind_proxy = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert behind_proxy.status_code == 200


def test_production_health_check_answers_over_plain_http(production_app):
    response = production_app.test_client().get("/healthz")
    assert response.status_code in (200, 503)
    assert response.json["database"] == "ok"


def test_production_demands_csrf_on_every_form(production_app, make_user):
    user = make_user("ops")
    response = production_app.test_client().post(
        "/login", base_url=HTTPS, data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.text


# The templates: what the policy forbids must not be in them ------------------------------

def _templates():
    return [p for p in TEMPLATES.rglob("*.html") if "pdf" not in p.relative_to(TEMPLATES).parts]


def test_no_template_has_an_inline_script_a_style_attribute_or_an_event_handler():
    offenders = []
    for path in _templates():
        text = path.read_text()
        name = str(path.relative_to(TEMPLATES))
        offenders += [f"{name}: inline <script>" for _ in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)]
        offenders += [f"{name}: style attribute" for _ in re.findall(r"\sstyle\s*=", text)]
        offenders += [f"{name}: <style> element" for _ in re.findall(r"<style\b", text)]
        offenders += [f"{name}: {m} attribute" for m in re.findall(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", text)]
        offenders += [f"{name}: javascript: URL" for _ in re.findall(r"javascript:", text, flags=re.I)]
    assert not offenders, offenders


def test_htmx_is_told_not_to_inject_styles_or_use_eval(login):
    page = login("ops").get("/").text
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1)
    assert '"includeIndicatorStyles":false' in config and '"allowEval":false' in config
