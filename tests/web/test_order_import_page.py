"""Importing an order CSV from the browser: upload, check the preview, confirm, watch the
progress bar until the orders are there."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import ImportJob, Order
from app.models.base import utcnow
from app.services.order_import import jobs
from tests.services.conftest import ACTOR, shop, stock  # noqa: F401  (the catalog fixture)
from tests.services.test_order_import import csv_bytes, row

HX = {"HX-Request": "true"}
pytestmark = pytest.mark.usefixtures("shop")


@pytest.fixture(autouse=True)
def import_files(app, tmp_path):
    app.config["ORDER_IMPORT_DIR"] = str(tmp_path / "imports")
    return tmp_path / "imports"


def upload(client, data: bytes, *, filename: str = "export.csv", skip_invalid: bool = False):
    form = {"channel": "web", "file": (io.BytesIO(data), filename)}
    if skip_invalid:
        form["skip_invalid"] = "y"
    return client.post("/orders/import", data=form, content_type="multipart/form-data")


def token_of(response) -> str:
    return re.search(r"/orders/import/([\w-]+)$", response.headers["Location"]).group(1)


def page(response) -> str:
    return response.get_data(as_text=True)


def order_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Order))


def test_upload_preview_confirm_and_watch_it_finish(login, import_files):
    stock("AMS", "MUG", 10)
    client = login("ops")
    form = client.get("/orders/import")
    assert form.status_code == 200 and 'value="web"' in page(form)

    uploaded = upload(client, csv_bytes([row("W-1"), row("W-1", sku="TEE", unit_price="25.00"), row("W-2")]))
    assert uploaded.status_code == 303
    token = token_of(uploaded)
    assert (import_files / f"{token}.csv").exists()
    preview = client.get(f"/orders/import/{token}")
    assert preview.status_code == 200
    assert "Would create 2 orders (3 lines); 0 duplicates skipped." in page(preview)
    assert "Import 2 orders" in page(preview)
    assert order_count() == 0

    confirmed = client.post(f"/orders/import/{token}/confirm")
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith(f"/orders/import/{token}")
    assert jobs.wait(token, timeout=60)

    done = client.get(f"/orders/import/{token}")
    html = page(done)
    assert 'data-status="done"' in html and "Created 2 orders (3 lines)" in html
    assert '<progress max="100" value="100"' in html and "hx-trigger" not in html
    assert 'href="/orders/SO-000001"' in html and 'href="/orders/SO-000002"' in html
    assert order_count() == 2
    assert not (import_files / f"{token}.csv").exists() and not (import_files / f"{token}.json").exists()
    job = db.session.scalar(select(ImportJob).where(ImportJob.token == token))
    assert (job.status, job.processed_rows, job.summary["orders"], job.created_by) == ("done", 3, 2, client.user.email)


def test_a_poll_returns_only_the_progress_block_until_the_import_is_done(app, login):
    stock("AMS", "MUG", 10)
    client = login("manager")
    token = token_of(upload(client, csv_bytes([row("P-1")])))
    started = []
    app.extensions["order_import_runner"] = lambda _app, tok, actor: started.append((tok, actor))
    try:
        client.post(f"/orders/import/{token}/confirm")
    finally:
        del app.extensions["order_import_runner"]
    assert [tok for tok, _ in started] == [token]

    running = client.get(f"/orders/import/{token}", headers=HX)
    html = page(running)
    assert html.lstrip().startswith('<section id="import-progress"') and "<html" not in html
    assert 'hx-trigger="every 1s"' in html and f'hx-get="/orders/import/{token}"' in html
    assert running.headers["Vary"] == "HX-Request" or "HX-Request" in running.headers["Vary"]

    jobs.run(token, actor=started[0][1])
    finished = client.get(f"/orders/import/{token}", headers=HX)
    html = page(finished)
    assert "<html" not in html and "hx-trigger" not in html and 'data-status="done"' in html
    assert "Created 1 order (1 lines)" in html


def test_a_file_with_rejected_rows_cannot_be_confirmed_all_or_nothing(login):
    stock("AMS", "MUG", 10)
    client = login("admin")
    token = token_of(upload(client, csv_bytes([row("R-1"), row("R-2", sku="NOPE")])))
    html = page(client.get(f"/orders/import/{token}"))
    assert "Nothing would be imported: 1 row rejected" in html
    assert "Unknown SKU NOPE." in html and "Import 1 order" not in html
    skipping = token_of(upload(client, csv_bytes([row("R-1"), row("R-2", sku="NOPE")]), skip_invalid=True))
    html = page(client.get(f"/orders/import/{skipping}"))
    assert "Import 1 order" in html and "1 row rejected and left out" in html


def test_confirming_twice_imports_once(login):
    stock("AMS", "MUG", 10)
    client = login("ops")
    token = token_of(upload(client, csv_bytes([row("T-1")])))
    client.post(f"/orders/import/{token}/confirm")
    assert jobs.wait(token, timeout=60)
    again = client.post(f"/orders/import/{token}/confirm")
    assert again.status_code == 303
    assert "already started" in page(client.get(again.headers["Location"]))
    assert order_count() == 1


def test_an_import_that_stopped_showing_progress_is_shown_as_interrupted(login):
    client = login("ops")
    token = token_of(upload(client, csv_bytes([row("I-1")])))
    db.session.execute(update(ImportJob).where(ImportJob.token == token)
                       .values(status="importing", started_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    html = page(client.get(f"/orders/import/{token}"))
    assert 'data-status="failed"' in html and "interrupted" in html and "hx-trigger" not in html


def test_upload_mistakes_are_explained(app, login):
    client = login("ops")
    missing = client.post("/orders/import", data={"channel": "web"}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "Choose the CSV file to import." in page(missing)
    wrong_kind = upload(client, b"not a csv", filename="orders.xlsx")
    assert wrong_kind.status_code == 422 and "Only .csv files can be imported" in page(wrong_kind)
    app.config["ORDER_IMPORT_MAX_BYTES"] = 2048
    too_big = upload(client, b"x" * (200 * 1024))
    assert too_big.status_code == 413
    assert "The file is larger than 2 KB" in page(too_big) and "Split it into smaller files" in page(too_big)
    # In production the CSRF check is the first to read the form; the limit already applies there.
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert upload(client, b"x" * (200 * 1024)).status_code == 413
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.parametrize("role", ["ops", "manager", "admin"])
def test_ops_managers_and_admins_may_import(login, role):
    assert login(role).get("/orders/import").status_code == 200


def test_finance_may_read_orders_but_not_import(login):
    client = login("finance")
    assert client.get("/orders/").status_code == 200
    assert client.get("/orders/import").status_code == 403
    assert upload(client, csv_bytes([row("F-1")])).status_code == 403
    assert client.post("/orders/import/some-token/confirm").status_code == 403
    assert client.get("/orders/import/some-token").status_code == 403
    assert order_count() == 0


def test_an_unknown_import_is_not_found(login):
    client = login("ops")
    assert client.get("/orders/import/no-such-token").status_code == 404
    assert client.post("/orders/import/no-such-token/confirm").status_code == 404
