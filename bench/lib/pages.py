"""Pages through the Flask test client, in-process: what the app itself spends on a request
(routing, login check, queries, ORM, templates) without a network or a WSGI server."""

from __future__ import annotations

import html
import re

from flask import Flask

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
HX_GET = re.compile(r'hx-get="([^"]*cursor=[^"]*)"')


class PageError(RuntimeError):
    pass


def csrf_token(page: str) -> str:
    match = CSRF_META.search(page) or CSRF_INPUT.search(page)
    if not match:
        raise PageError("no CSRF token on the page")
    return html.unescape(match.group(1))


def next_page_link(page: str, contains: str = "") -> str | None:
    """The first "load more" link (hx-get with a cursor) of a rendered page, optionally one
    whose URL contains `contains` (a board column)."""
    for match in HX_GET.finditer(page):
        url = html.unescape(match.group(1))
        if contains in url:
            return url
    return None


class WebClient:
    """A signed-in browser, as the Flask test client. Each request runs in its own app context."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.csrf: str | None = None

    def login(self, email: str, password: str) -> None:
        token = csrf_token(self.get("/login"))
        response = self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})
        if response.status_code != 302:
            raise PageError(f"sign-in failed ({response.status_code})")
        self.csrf = token  # the CSRF secret lives in the session, which signing in keeps

    def get(self, path: str, *, fragment: bool = False, headers: dict | None = None) -> str:
        hx = {"HX-Request": "true"} if fragment else {}
        response = self.client.get(path, headers={**hx, **(headers or {})})
        if response.status_code != 200:
            raise PageError(f"GET {path} answered {response.status_code}")
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict, *, fragment: bool = True, expect: int = 200) -> str:
        headers = {"X-CSRFToken": self.csrf or ""}
        if fragment:
            headers["HX-Request"] = "true"
        response = self.client.post(path, data=data, headers=headers)
        if response.status_code != expect:
            raise PageError(f"POST {path} answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
        return response.get_data(as_text=True)

    def has_route(self, rule_prefix: str) -> bool:
        return any(str(rule.rule).startswith(rule_prefix) for rule in self.app.url_map.iter_rules())
