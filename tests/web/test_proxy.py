"""Behind a reverse proxy (TRUSTED_PROXIES) the client's address and scheme come from the
proxy's X-Forwarded-* headers; without one, those headers are the client's own claim and
are ignored (the login throttle keys on the address)."""

from __future__ import annotations

import pytest
from flask import request

from app import create_app
from config import TestConfig


@pytest.mark.parametrize(("trusted", "expected"), [(1, "203.0.113.9 https"), (0, "10.0.0.2 http")])
def test_forwarded_headers_count_only_behind_a_trusted_proxy(trusted, expected):
    config = type("ProxyConfig", (TestConfig,), {"TRUSTED_PROXIES": trusted,
                                                 "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})
    app = create_app(config)
    app.add_url_rule("/_client", "client", lambda: f"{request.remote_addr} {request.scheme}")
    response = app.test_client().get(
        "/_client", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.get_data(as_text=True) == expected
