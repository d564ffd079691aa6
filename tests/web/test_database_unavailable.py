"""When the database cannot be reached, every request answers a clear 503 — JSON under /api/,
a page elsewhere — instead of a bare server error, and says when to try again. (The real
outage, with recovery, is drilled by bench/faults/run.py db-outage.)"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session


def _database_gone(monkeypatch, message: str = "connection refused") -> None:
    def fail(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception(message))

    # Every ORM query goes through Session.execute/get: the user lookup for the session
    # cookie fails first, then anything the view would have read.
    monkeypatch.setattr(Session, "execute", fail)
    monkeypatch.setattr(Session, "get", fail)


def test_a_signed_in_page_shows_the_unavailable_page(login, monkeypatch):
    client = login("ops")
    _database_gone(monkeypatch)
    response = client.get("/orders/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "Temporarily unavailable" in page and "not reachable right now" in page


def test_an_api_call_gets_the_documented_error_body(api, monkeypatch):
    _database_gone(monkeypatch)
    response = api.get("/api/v1/orders")
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "unavailable", "message": "The database is not reachable right now. Try again in a few seconds."}


@pytest.mark.parametrize("path", ["/orders/", "/api/v1/orders"])
def test_a_locked_sqlite_database_says_it_is_busy(login, api, monkeypatch, path):
    client = api if path.startswith("/api/") else login("ops")
    _database_gone(monkeypatch, "database is locked")
    response = client.get(path)
    assert response.status_code == 503
    assert "busy with another change" in response.get_data(as_text=True)
