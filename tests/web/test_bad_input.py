"""Bad input through the dashboard's forms, searches and uploads (docs/bad-input.md lists
every surface and points at these tests): the answer is a clear refusal or harmless
text, never a 500, never a partial change, never markup that runs."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.models import Channel, Location, Order, StockLevel, StockMove, User
from app.services import users
from app.services.actors import Actor
from tests.conftest import PASSWORD
from tests.factories import make_location, make_order, make_product, make_stock

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert("
HX = {"HX-Request": "true"}


@pytest.fixture
def shop(app):
    mug = make_product("MUG", name="Blue mug")
    ams = make_location("AMS", name="Amsterdam DC")
    make_stock(mug, ams, 10)
    return mug, ams


def on_hand(db, sku="MUG", location="AMS") -> int:
    db.session.expire_all()
    level = db.session.scalars(select(StockLevel).join(StockLevel.product).join(StockLevel.location)
                               .where(StockLevel.product.has(sku=sku), StockLevel.location.has(code=location))).one()
    return level.on_hand


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Markup in names and notes -----------------------------------------------------------


def test_markup_in_names_is_shown_as_text_on_the_admin_pages(login):
    admin = login("admin")
    assert admin.post("/admin/users", data={"email": "x@example.com", "name": XSS, "role": "ops",
                                            "password": "a-long-password-1"}).status_code == 303
    assert admin.post("/admin/channels", data={"code": "XSS", "name": XSS, "kind": "webstore",
                                               "dispatch_sla_hours": "48"}).status_code == 303
    assert admin.post("/admin/locations", data={"code": "XSSL", "name": XSS, "kind": "warehouse", "priority": "1",
                                                "timezone": "UTC", "cutoff_time": "16:00"}).status_code == 303
    for page in ("/admin/users", "/admin/channels", "/admin/locations"):
        html = admin.get(page).text
        assert ESCAPED in html and XSS not in html and "<img src=x" not in html, page


def test_markup_in_an_order_and_its_hold_note_is_shown_as_text(login, api):
    body = {"channel": "WEB", "external_id": XSS, "customer": {"name": XSS, "email": "c@example.com"},
            "ship_to": {"name": XSS, "line1": XSS, "city": "Utrecht", "postcode": "3511", "country": "NL"},
            "lines": [{"sku": "MUG", "qty": 1, "unit_price": "9.90"}]}
    make_product("MUG")
    make_location("AMS")
    api.post("/api/v1/channels", json={"code": "WEB", "name": "Web"})
    created = api.post("/api/v1/orders", json=body)
    assert created.status_code == 201, created.json
    number = created.json["number"]
    ops = login("ops")
    held = ops.post(f"/orders/{number}/hold", data={"reason": "manual", "note": XSS})
    assert held.status_code in (200, 303)
    for page in (f"/orders/{number}", "/orders/", "/orders/board", f"/orders/?q={number}"):
        html = ops.get(page).text
        assert XSS not in html and "<img src=x" not in html, page
    assert ESCAPED in ops.get(f"/orders/{number}").text


# SQL-ish text in searches ------------------------------------------------------------

SQLISH = ["' OR '1'='1", "'; DROP TABLE orders; --", "%", "_", "\\", "SO-%", "1 UNION SELECT email FROM users"]


@pytest.mark.parametrize("q", SQLISH)
def test_sql_like_searches_find_nothing_and_change_nothing(login, db, q):
    first, second = make_order("new"), make_order("new")
    client = login("ops")
    for url in (f"/orders/?q={q}", f"/inventory/?sku={q}"):
        response = client.get(url, query_string=None)
        assert response.status_code == 200, url
    html = client.get("/orders/", query_string={"q": q}).text
    assert first.number not in html and second.number not in html
    assert count(db, Order) == 2 and count(db, User) == 1


# Numbers: negative, huge, fractional, not numbers, other digits -------------------------


@pytest.mark.parametrize("qty", ["-5", "0", "2.5", "1e3", "99999999999999999999", "abc", "", " "])
def test_stock_forms_refuse_impossible_quantities_and_book_nothing(login, db, shop, qty):
    client = login("ops")
    moves = count(db, StockMove)
    for url, field in (("/inventory/receive", "qty"), ("/inventory/transfer", "qty"), ("/inventory/adjust", "delta")):
        data = {"sku": "MUG", "location": "AMS", "from_location": "AMS", "to_location": "AMS", "reason": "count",
                field: qty}
        response = client.post(url, data=data, headers=HX)
        if (url, qty) == ("/inventory/adjust", "-5"):
            assert response.status_code == 200  # a negative adjustment is the point of the form
            continue
        assert response.status_code == 422, (url, qty, response.status_code)
        assert 'class="field-error"' in response.text, (url, qty)
    expected = moves + 1 if qty == "-5" else moves
    assert count(db, StockMove) == expected


def test_full_width_digits_mean_their_value(login, db, shop):
    response = login("ops").post("/inventory/receive", data={"sku": "MUG", "location": "AMS", "qty": "１２"})
    assert response.status_code == 303
    assert on_hand(db) == 22


@pytest.mark.parametrize("hours", ["-1", "0", "100000", "99999999999999999999", "7.5"])
def test_admin_forms_refuse_out_of_range_numbers(login, db, hours):
    admin = login("admin")
    response = admin.post("/admin/channels", data={"code": "NUM", "name": "Numbers", "kind": "webstore",
                                                   "dispatch_sla_hours": hours})
    assert response.status_code == 422
    assert count(db, Channel) == 0


@pytest.mark.parametrize("amount", ["-5", "0", "1e30", "NaN", "Inf", "12.345"])
def test_payment_form_refuses_impossible_amounts(login, db, amount):
    order = make_order("new")
    response = login("finance").post(f"/orders/{order.number}/payments", data={"amount": amount, "method": "card"},
                                     headers=HX)
    assert response.status_code == 422, (amount, response.status_code)
    db.session.expire_all()
    assert db.session.get(Order, order.id).paid_amount == Decimal("0.00")


# Unicode lookalikes -----------------------------------------------------------------


def test_a_lookalike_email_does_not_open_the_real_account(client, make_user):
    make_user("admin", email="admin@example.com")
    cyrillic_a = "\u0430dmin@example.com"  # "аdmin": the first letter is Cyrillic
    response = client.post("/login", data={"email": cyrillic_a, "password": PASSWORD})
    assert response.status_code == 401
    assert client.get("/").status_code == 302


def test_a_lookalike_sku_is_a_different_product(login, db, shop):
    cyrillic_m = "\u041cUG"  # "МUG"
    response = login("ops").post("/inventory/receive", data={"sku": cyrillic_m, "location": "AMS", "qty": "3"},
                                 headers=HX)
    assert response.status_code in (404, 422)
    assert "MUG" in response.text or "No product" in response.text or "SKU" in response.text
    assert on_hand(db) == 10


def test_the_same_email_in_other_case_is_a_duplicate(login, make_user, db):
    make_user("ops", email="dup@example.com")
    response = login("admin").post("/admin/users", data={"email": "DUP@Example.COM", "role": "ops",
                                                         "password": "a-long-password-1"})
    assert response.status_code == 409
    assert "already exists" in response.text
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "dup@example.com")) == 1


# Duplicate keys ---------------------------------------------------------------------


def test_duplicate_location_and_channel_codes_are_refused_beside_the_field(login, db):
    admin = login("admin")
    location = {"code": "DUP", "name": "One", "kind": "warehouse", "priority": "1", "timezone": "UTC",
                "cutoff_time": "16:00"}
    assert admin.post("/admin/locations", data=location).status_code == 303
    again = admin.post("/admin/locations", data={**location, "name": "Two"})
    assert again.status_code == 409 and "Already in use." in again.text
    assert count(db, Location) == 1
    channel = {"code": "DUPC", "name": "One", "kind": "webstore", "dispatch_sla_hours": "48"}
    assert admin.post("/admin/channels", data=channel).status_code == 303
    assert admin.post("/admin/channels", data=channel).status_code == 409
    assert count(db, Channel) == 1


# Control characters, lengths, sizes -----------------------------------------------------


def test_a_nul_character_in_a_form_is_refused_with_the_field_named(login, db):
    admin = login("admin")
    response = admin.post("/admin/channels", data={"code": "NUL", "name": "A\x00B", "kind": "webstore",
                                                   "dispatch_sla_hours": "48"})
    assert response.status_code == 400
    assert "The field “name” contains a NUL character" in response.text
    assert count(db, Channel) == 0
    search = admin.get("/orders/", query_string={"q": "SO\x00"})
    assert search.status_code == 400


def test_overlong_text_is_refused_not_cut(login, db):
    response = login("admin").post("/admin/channels", data={"code": "LONG", "name": "x" * 10_000,
                                                            "kind": "webstore", "dispatch_sla_hours": "48"})
    assert response.status_code == 422
    assert "120" in response.text
    assert count(db, Channel) == 0


def test_a_huge_upload_is_refused_before_it_is_read(app, login):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    client = login("ops")
    response = client.post("/inventory/counts/preview", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"sku,location,counted\n" + b"x" * (2 * 1024 * 1024)), "c.csv")})
    assert response.status_code == 413
    assert "The upload is too large." in response.text


@pytest.mark.parametrize(("content", "problem"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "first row"),
    ("sku,location,counted\nMUG,AMS,5\n".encode("utf-16"), "first row"),
    (b"", "empty"),
])
def test_count_files_in_the_wrong_format_are_explained_and_book_nothing(login, db, shop, content, problem):
    moves = count(db, StockMove)
    response = login("ops").post("/inventory/counts/preview", headers=HX, content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(content), "counts.csv")})
    assert response.status_code == 422
    assert problem in response.text.lower()
    assert count(db, StockMove) == moves


def test_a_windows_1252_count_file_is_read(login, db, shop):
    content = "sku;location;counted;note\nMUG;AMS;7;caf\u00e9 shelf\n".encode("cp1252")
    response = login("ops").post("/inventory/counts/preview", headers=HX, content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(content), "counts.csv")})
    assert response.status_code == 200
    assert "MUG" in response.text


def test_a_cli_password_that_breaks_the_policy_is_refused(app):
    from click.testing import CliRunner

    result = CliRunner().invoke(app.cli, ["users", "create", "--email", "cli.weak@example.com", "--role", "ops",
                                          "--password", "password1234"])
    assert result.exit_code != 0 and "first that attackers try" in result.output
    assert users.find_by_email("cli.weak@example.com") is None
    made = CliRunner().invoke(app.cli, ["users", "create", "--email", XSS + "@example.com", "--role", "ops",
                                        "--password", "a-long-password-1"])
    assert made.exit_code != 0 and "is not a valid e-mail address" in made.output
    assert users.list_users() == []
    with pytest.raises(Exception, match="Unknown role"):
        users.create_user(email="r@example.com", name="R", role="root", password="a-long-password-1",
                          actor=Actor.cli())


# Order CSV import (the service the upload page, the CLI and the job share) ----------------

CSV_HEADER = ("external_id,placed_at,customer_name,customer_email,ship_name,line1,line2,city,region,postcode,"
              "country,sku,qty,unit_price,shipping_price,currency,paid_amount")


def csv_row(external_id="C-1", *, name="Ada", sku="MUG", qty="1", price="9.90", email="ada@example.com") -> str:
    return (f"{external_id},2026-03-02T10:00:00+00:00,{name},{email},{name},Damrak 1,,Amsterdam,,1011 AB,NL,"
            f"{sku},{qty},{price},0.00,EUR,")


def import_csv(text: str | bytes, **options):
    from app.services.order_import import import_orders

    data = text.encode() if isinstance(text, str) else text
    return import_orders(data, "WEB", actor=Actor.cli(), **options)


@pytest.fixture
def web_channel(shop):
    from tests.factories import make_channel

    return make_channel("WEB")


@pytest.mark.parametrize(("qty", "price"), [("-1", "9.90"), ("0", "9.90"), ("99999999999999999999", "9.90"),
                                            ("1", "-9.90"), ("1", "1e104"), ("1", "9.999"), ("1.5", "9.90")])
def test_csv_rows_with_impossible_numbers_are_rejected_and_nothing_is_imported(db, web_channel, qty, price):
    summary = import_csv("\n".join([CSV_HEADER, csv_row("C-1"), csv_row("C-2", qty=qty, price=price)]) + "\n")
    assert not summary.imported
    assert [e.line for e in summary.row_errors] == [3]
    assert count(db, Order) == 0


def test_csv_markup_and_sql_are_imported_as_text_and_shown_escaped(db, web_channel, login):
    summary = import_csv("\n".join([CSV_HEADER, csv_row("C-1", name='"<script>alert(1)</script>"'),
                                    csv_row("C-2", name="\"Robert'); DROP TABLE orders;--\"")]) + "\n")
    assert summary.imported, summary.errors
    names = sorted(db.session.scalars(select(Order.ship_name)))
    assert names == ["<script>alert(1)</script>", "Robert'); DROP TABLE orders;--"]
    html = login("ops").get("/orders/").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(("data", "problem"), [
    ((CSV_HEADER + "\n" + csv_row()).encode("utf-16"), "lacks the columns"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "lacks the columns"),
    ((CSV_HEADER + ",qty\n" + csv_row() + ",2\n").encode(), "qty"),
])
def test_csv_files_in_the_wrong_shape_are_explained(db, web_channel, data, problem):
    summary = import_csv(data)
    assert not summary.imported and summary.errors
    assert problem in " ".join(e.message for e in summary.errors) + " ".join(str(e) for e in summary.errors)
    assert count(db, Order) == 0


def test_a_nul_byte_in_a_csv_cell_is_rejected_on_both_engines(db, web_channel):
    summary = import_csv(("\n".join([CSV_HEADER, csv_row("C-1", name="A\x00B")]) + "\n").encode())
    assert not summary.imported
    assert "NUL character" in " ".join(e.message for e in summary.errors)
    assert count(db, Order) == 0


def test_a_nul_byte_in_a_count_file_is_a_bad_row_not_a_crash(login, db, shop):
    content = b"sku,location,counted\nMU\x00G,AMS,5\n"
    response = login("ops").post("/inventory/counts/preview", headers=HX, content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(content), "counts.csv")})
    assert response.status_code in (200, 422)
    assert "NUL character" in response.text
    assert on_hand(db) == 10
