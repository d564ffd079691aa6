"""The inventory pages a person works in: booking stock from the grid (receive, adjust,
transfer) with the reasons for a refusal beside the field, the stock count import,
the CSV export, the books check and the routing preview."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.models import Allocation, Event, StockLevel, StockMove
from app.services import catalog, inventory, orders
from app.services.actors import Actor
from tests.conftest import PASSWORD

ACTOR = Actor(label="test")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HX = {"HX-Request": "true"}


PRICES = {"MUG": "12.50", "TEE": "25.00", "CAP": "15.00"}


@pytest.fixture
def shop(app):
    """A web store, Amsterdam (serves NL) and Leipzig (serves DE), three products; 4 mugs in Amsterdam."""
    catalog.create_channel(code="web", name="Web store", actor=ACTOR)
    catalog.create_location(code="AMS", name="Amsterdam", regions=["NL"], priority=1, actor=ACTOR)
    catalog.create_location(code="LEJ", name="Leipzig", regions=["DE"], priority=2, actor=ACTOR)
    for sku, price in PRICES.items():
        catalog.create_product(sku=sku, name=sku.title(), unit_price=Decimal(price), actor=ACTOR)
    receive("AMS", "MUG", 4)


def receive(location: str, sku: str, qty: int) -> None:
    inventory.receive(location=location, sku=sku, qty=qty, reference="initial", actor=ACTOR, now=T0)


def place_order(external_id: str, lines, *, country="NL", placed_at=T0):
    body = {
        "channel": "web", "external_id": external_id, "placed_at": placed_at,
        "customer": {"name": "Ada Buyer", "email": "ada@example.com"},
        "ship_to": {"name": "Ada Buyer", "line1": "Damrak 1", "line2": None, "city": "Amsterdam", "region": None,
                    "postcode": "1011 AB", "country": country},
        "lines": [{"sku": sku, "qty": qty, "unit_price": Decimal(PRICES[sku])} for sku, qty in lines],
        "shipping_price": Decimal("0.00"), "currency": "EUR",
    }
    return orders.create_order(body, actor=ACTOR, now=placed_at)[0]


def on_hand(db, sku: str, location: str) -> int | None:
    db.session.expire_all()
    for level in db.session.scalars(select(StockLevel)):
        if level.product.sku == sku and level.location.code == location:
            return level.on_hand
    return None


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def toast(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["toast"]


def field_error(body: str, name: str) -> str:
    found = re.search(rf'data-testid="error-{name}">([^<]*)<', body)
    return html.unescape(found.group(1)) if found else ""


def row_html(body: str, sku: str, location: str) -> str:
    found = re.search(rf'<tr id="level-{sku}-{location}".*?</tr>', body, re.S)
    assert found, f"no row for {sku} at {location}"
    return found.group(0)


def cell(row: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}">(?:<span[^>]*>)?(-?\d+)<', row).group(1)


# Receive, adjust, transfer -------------------------------------------------------------


def test_receipt_swaps_a_fresh_form_and_the_changed_row_out_of_band(login, db, shop):
    client = login("ops")

    response = client.post("/inventory/receive", headers=HX,
                           data={"sku": "MUG", "location": "AMS", "qty": "6", "reference": "PO-7"})

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body
    row = row_html(body, "MUG", "AMS")
    assert 'hx-swap-oob="true"' in row and 'data-changed="changed"' in row
    assert cell(row, "on-hand") == "10" and cell(row, "available") == "10"
    assert toast(response) == {"message": "Received 6 × MUG at AMS. On hand now 10.", "level": "success"}
    # The form is ready for the next delivery of the same product: SKU and location kept, quantity cleared.
    form = re.search(r'<form[^>]*data-testid="receive-form".*?</form>', body, re.S).group(0)
    assert 'value="MUG"' in form and re.search(r'<option selected value="AMS"|<option value="AMS" selected', form)
    assert not re.search(r'name="qty"[^>]*value="\d', form)
    assert on_hand(db, "MUG", "AMS") == 10
    move = db.session.scalars(select(StockMove).order_by(StockMove.id.desc())).first()
    assert (move.kind, move.qty, move.reference) == ("receipt", 6, "PO-7")
    assert move.actor == f"user:{client.user.email}"


def test_receipt_at_a_new_location_adds_the_row_to_the_grid(login, db, shop):
    response = login("ops").post("/inventory/receive", headers=HX, data={"sku": "TEE", "location": "LEJ", "qty": "3"})

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<template><tbody hx-swap-oob="afterbegin:#stock-rows">\s*<tr id="level-TEE-LEJ"', body)
    assert 'data-changed="added"' in row_html(body, "TEE", "LEJ")
    assert on_hand(db, "TEE", "LEJ") == 3


def test_plain_receipt_redirects_to_the_products_levels_with_a_message(login, db, shop):
    client = login("manager")

    response = client.post("/inventory/receive", data={"sku": "MUG", "location": "AMS", "qty": "2"})

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/inventory/?q=MUG")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Received 2 × MUG at AMS. On hand now 6." in page
    assert cell(row_html(page, "MUG", "AMS"), "on-hand") == "6"


def test_adjustment_below_zero_is_refused_beside_the_field_and_keeps_the_input(login, db, shop):
    response = login("ops").post("/inventory/adjust", headers=HX,
                                 data={"sku": "MUG", "location": "AMS", "delta": "-5", "reason": "loss",
                                       "note": "shelf empty"})

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert field_error(body, "delta") == "Only 4 of MUG are on hand at AMS; you can remove at most 4."
    assert 'value="-5"' in body and 'value="shelf empty"' in body
    assert re.search(r'<option selected value="loss"|<option value="loss" selected', body)
    assert 'aria-invalid="true"' in body
    assert "hx-swap-oob" not in body
    assert on_hand(db, "MUG", "AMS") == 4


def test_adjustment_books_a_move_with_reason_and_note(login, db, shop):
    response = login("ops").post("/inventory/adjust", headers=HX,
                                 data={"sku": "MUG", "location": "AMS", "delta": "-1", "reason": "damage",
                                       "note": "dropped"})

    assert response.status_code == 200
    assert toast(response)["message"] == "MUG at AMS: -1 (damaged). On hand now 3."
    assert cell(row_html(response.get_data(as_text=True), "MUG", "AMS"), "on-hand") == "3"
    move = db.session.scalars(select(StockMove).order_by(StockMove.id.desc())).first()
    assert (move.kind, move.qty, move.reason) == ("adjustment", -1, "damage: dropped")


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"sku": "", "location": "", "delta": "", "reason": "count"},
         {"sku": "This field is required.", "location": "Choose a location.",
          "delta": "Enter the change, e.g. -2 or 5."}),
        ({"sku": "MUG", "location": "AMS", "delta": "0", "reason": "count"},
         {"delta": "A change of 0 changes nothing."}),
        ({"sku": "MUG", "location": "AMS", "delta": "1.5", "reason": "count"}, {"delta": "Not a valid integer value."}),
        ({"sku": "MUG", "location": "XXX", "delta": "1", "reason": "theft"},
         {"location": "Not a valid choice.", "reason": "Not a valid choice."}),
        ({"sku": "NOPE", "location": "AMS", "delta": "1", "reason": "found"},
         {"sku": "There is no product with SKU NOPE."}),
    ],
)
def test_adjustment_form_shows_each_problem_beside_its_field(login, db, shop, data, errors):
    moves = count(db, StockMove)

    response = login("ops").post("/inventory/adjust", headers=HX, data=data)

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert {name: field_error(body, name) for name in errors} == errors
    assert count(db, StockMove) == moves


def test_transfer_updates_both_rows(login, db, shop):
    receive("LEJ", "MUG", 1)

    response = login("admin").post("/inventory/transfer", headers=HX,
                                   data={"sku": "MUG", "from_location": "AMS", "to_location": "LEJ", "qty": "3"})

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert cell(row_html(body, "MUG", "AMS"), "on-hand") == "1"
    assert cell(row_html(body, "MUG", "LEJ"), "on-hand") == "4"
    assert body.count('hx-swap-oob="true"') == 2
    assert toast(response)["message"] == "Moved 3 × MUG from AMS to LEJ. On hand now 1 at AMS, 4 at LEJ."
    kinds = db.session.scalars(select(StockMove.kind).order_by(StockMove.id.desc()).limit(2)).all()
    assert sorted(kinds) == ["transfer_in", "transfer_out"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"from_location": "AMS", "to_location": "LEJ", "qty": "9"}, "qty", "Only 4 of MUG are on hand at AMS."),
        ({"from_location": "AMS", "to_location": "AMS", "qty": "1"}, "to_location",
         "Choose another location than the source."),
        ({"from_location": "AMS", "to_location": "LEJ", "qty": "0"}, "qty", "Number must be between 1 and 1000000."),
    ],
)
def test_transfer_refusals_are_shown_beside_the_field(login, db, shop, data, field, message):
    response = login("ops").post("/inventory/transfer", headers=HX, data={"sku": "MUG", **data})

    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    assert (on_hand(db, "MUG", "AMS"), on_hand(db, "MUG", "LEJ")) == (4, None)


def test_transfer_to_an_inactive_location_names_the_destination(login, db, shop):
    catalog.create_location(code="OLD", name="Old shop", actor=ACTOR)
    db.session.execute(text("UPDATE locations SET active = :no WHERE code = 'OLD'"), {"no": False})
    db.session.commit()

    response = login("ops").post("/inventory/transfer", headers=HX,
                                 data={"sku": "MUG", "from_location": "AMS", "to_location": "OLD", "qty": "1"})

    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "to_location") == "Location OLD is inactive."


def test_plain_refusal_gets_the_whole_page_with_the_form_and_the_products_levels(login, db, shop):
    response = login("ops").post("/inventory/adjust",
                                 data={"sku": "MUG", "location": "AMS", "delta": "-9", "reason": "loss"})

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" in body and 'id="stock-table"' in body
    assert field_error(body, "delta") == "Only 4 of MUG are on hand at AMS; you can remove at most 4."
    assert re.findall(r'<tr id="level-([^"]+)"', body) == ["MUG-AMS"]


def test_row_action_opens_the_form_pre_filled(login, db, shop):
    client = login("ops")

    fragment = client.get("/inventory/adjust?sku=MUG&location=AMS", headers=HX).get_data(as_text=True)
    page = client.get("/inventory/adjust?sku=MUG&location=AMS").get_data(as_text=True)

    assert fragment.lstrip().startswith('<section id="stock-actions"')
    assert 'data-testid="adjust-form"' in fragment and 'value="MUG"' in fragment
    assert re.search(r'<input(?=[^>]*name="delta")[^>]*autofocus', fragment)
    assert "<html" in page and 'data-testid="adjust-form"' in page and 'id="level-MUG-AMS"' in page
    transfer = client.get("/inventory/transfer?sku=MUG&location=AMS", headers=HX).get_data(as_text=True)
    assert re.search(r'<select[^>]*name="from_location".*?<option selected value="AMS"', transfer, re.S)
    # Every row offers the three actions for its own level.
    grid = client.get("/inventory/").get_data(as_text=True)
    assert 'href="/inventory/receive?sku=MUG&amp;location=AMS"' in row_html(grid, "MUG", "AMS")


def test_stock_actions_need_the_csrf_token(app, make_user, db, shop):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("ops")
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    page = client.get("/inventory/").get_data(as_text=True)
    header_token = page.split('<meta name="csrf-token" content="')[1].split('"')[0]

    refused = client.post("/inventory/receive", headers=HX, data={"sku": "MUG", "location": "AMS", "qty": "1"})
    accepted = client.post("/inventory/receive", headers={**HX, "X-CSRFToken": header_token},
                           data={"sku": "MUG", "location": "AMS", "qty": "1"})

    assert refused.status_code == 400
    assert accepted.status_code == 200
    assert on_hand(db, "MUG", "AMS") == 5


# Stock count import ------------------------------------------------------------------


def upload(client, content: str | bytes, name: str = "counts.csv", **headers):
    data = content.encode() if isinstance(content, str) else content
    return client.post("/inventory/counts/preview", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name)})


def confirm_data(preview_body: str) -> dict:
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"|id="payload" name="payload" type="hidden" '
                        r'value="([^"]+)"', preview_body)
    value = next(v for v in payload.groups() if v)
    filename = re.search(r'name="filename" type="hidden" value="([^"]*)"', preview_body)
    return {"payload": value, "filename": filename.group(1) if filename else ""}


def count_rows(body: str) -> dict[str, str]:
    return {line: re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", result))).strip()
            for line, result in re.findall(r'data-line="(\d+)".*?data-testid="count-result">(.*?)</td>', body, re.S)}


def test_count_import_dry_run_lists_every_row_then_confirm_books_them(login, db, shop):
    receive("LEJ", "TEE", 10)
    client = login("ops")
    moves = count(db, StockMove)

    preview = upload(client, "sku;location;counted\r\nMUG;AMS;6\r\nTEE;LEJ;7\r\nCAP;AMS;0\r\n", **HX)

    body = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert count_rows(body) == {"2": "Adjustment +2, reason count", "3": "Adjustment -3, reason count",
                                "4": "No change"}
    assert 'data-testid="planned-adjustments">2<' in body and 'data-testid="bad-rows">0<' in body
    assert count(db, StockMove) == moves  # the dry run booked nothing

    booked = client.post("/inventory/counts/import", headers=HX, data=confirm_data(body))

    assert booked.status_code == 200
    assert re.match(r"Stock count COUNT-\d{8}-\d{6} booked: 2 levels adjusted, 1 unchanged\.$",
                    toast(booked)["message"])
    assert 'data-testid="count-adjusted">2<' in booked.get_data(as_text=True)
    assert (on_hand(db, "MUG", "AMS"), on_hand(db, "TEE", "LEJ"), on_hand(db, "CAP", "AMS")) == (6, 7, None)
    new_moves = db.session.scalars(select(StockMove).where(StockMove.kind == "adjustment").order_by(StockMove.id)).all()
    assert [(m.qty, m.reason) for m in new_moves] == [(2, "count: counted 6, was 4"), (-3, "count: counted 7, was 10")]
    assert len({m.reference for m in new_moves}) == 1
    event = db.session.scalar(select(Event).where(Event.action == "stock_count_imported"))
    assert event.details["source"] == "counts.csv" and event.details["adjusted"] == 2


def test_count_import_with_a_bad_row_books_nothing_unless_told_to_skip(login, db, shop):
    client = login("manager")
    content = ("sku,location,counted\n"
               "MUG,AMS,9\n"
               "NOPE,AMS,1\n"
               "TEE,XXX,1\n"
               "TEE,AMS,-2\n"
               "TEE,AMS,two\n"
               "CAP,LEJ,3\n"
               "CAP,LEJ,4\n")

    body = upload(client, content, **HX).get_data(as_text=True)

    assert count_rows(body) == {
        "2": "Adjustment +5, reason count",
        "3": "Unknown SKU NOPE.",
        "4": "Unknown location XXX.",
        "5": "A count cannot be negative (-2).",
        "6": "“two” is not a whole number.",
        "7": "CAP at LEJ is counted more than once (lines 7, 8).",
        "8": "CAP at LEJ is counted more than once (lines 7, 8).",
    }
    moves = count(db, StockMove)

    refused = client.post("/inventory/counts/import", headers=HX, data=confirm_data(body))

    assert refused.status_code == 422
    assert ("6 rows of the file cannot be booked, so nothing was imported."
            in html.unescape(refused.get_data(as_text=True)))
    assert count(db, StockMove) == moves and on_hand(db, "MUG", "AMS") == 4

    skipped = client.post("/inventory/counts/import", headers=HX, data={**confirm_data(body), "skip_bad": "y"})

    assert skipped.status_code == 200
    assert toast(skipped)["message"].endswith("1 level adjusted, 0 unchanged, 6 bad rows skipped.")
    assert on_hand(db, "MUG", "AMS") == 9 and count(db, StockMove) == moves + 1


def test_count_below_what_is_packed_is_a_bad_row(login, db, shop):
    order = place_order("PK-1", [("MUG", 3)])
    db.session.execute(text("UPDATE orders SET status = 'packed' WHERE id = :id"), {"id": order.id})
    db.session.commit()

    body = upload(login("ops"), "sku,location,counted\nMUG,AMS,2\n", **HX).get_data(as_text=True)

    assert count_rows(body) == {"2": "3 units are packed or shipping here; the count cannot be lower than that."}


def test_count_file_problems_are_shown_beside_the_upload(login, db, shop):
    client = login("ops")

    missing_column = upload(client, "sku,location,qty\nMUG,AMS,1\n", **HX)
    empty = upload(client, b"", **HX)
    no_file = client.post("/inventory/counts/preview", headers=HX, data={})

    assert missing_column.status_code == empty.status_code == no_file.status_code == 422
    assert field_error(missing_column.get_data(as_text=True), "file") == (
        "The first row must name the columns sku, location and counted; missing: counted.")
    assert field_error(no_file.get_data(as_text=True), "file") == "Choose a CSV file."


def test_plain_count_import_redirects_with_a_message(login, db, shop):
    client = login("ops")
    body = upload(client, "sku,location,counted\nMUG,AMS,5\n").get_data(as_text=True)
    assert "<html" in body

    response = client.post("/inventory/counts/import", data=confirm_data(body))

    assert response.status_code == 303 and response.headers["Location"].endswith("/inventory/")
    assert "1 level adjusted, 0 unchanged." in client.get("/inventory/").get_data(as_text=True)
    assert on_hand(db, "MUG", "AMS") == 5


def test_a_tampered_confirmation_imports_nothing(login, db, shop):
    client = login("ops")
    moves = count(db, StockMove)

    response = client.post("/inventory/counts/import", headers=HX, data={"payload": "***not base64***"})
    garbage = client.post("/inventory/counts/import", headers=HX,
                          data={"payload": base64.b64encode(b"just,some\ntext,here\n").decode()})

    assert response.status_code == garbage.status_code == 422
    assert "upload it again" in response.get_data(as_text=True)
    assert "missing: sku" in html.unescape(garbage.get_data(as_text=True))
    assert count(db, StockMove) == moves


# CSV export -----------------------------------------------------------------------


def test_export_streams_the_grid_with_its_filters(login, db, shop):
    receive("LEJ", "MUG", 2)
    receive("AMS", "TEE", 8)
    place_order("EX-1", [("MUG", 1)])  # reserves one mug in Amsterdam
    client = login("ops")

    # buffered: read the streamed body while the request is still open, as a server does.
    everything = client.get("/inventory/export.csv", buffered=True)
    only_ams_mugs = client.get("/inventory/export.csv?q=mug&location=AMS", buffered=True)

    assert everything.status_code == 200
    assert everything.mimetype == "text/csv"
    assert re.match(r'attachment; filename="stock-\d{8}-\d{4}\.csv"', everything.headers["Content-Disposition"])
    rows = list(csv.reader(io.StringIO(everything.get_data(as_text=True))))
    assert rows == [
        ["sku", "name", "location", "bin", "on_hand", "reserved", "available", "reorder_point"],
        ["MUG", "Mug", "AMS", "", "4", "1", "3", "0"],
        ["MUG", "Mug", "LEJ", "", "2", "0", "2", "0"],
        ["TEE", "Tee", "AMS", "", "8", "0", "8", "0"],
    ]
    assert list(csv.reader(io.StringIO(only_ams_mugs.get_data(as_text=True))))[1:] == [
        ["MUG", "Mug", "AMS", "", "4", "1", "3", "0"]]
    # The grid's export link carries the filters it shows.
    page = client.get("/inventory/?location=AMS").get_data(as_text=True)
    assert 'href="/inventory/export.csv?location=AMS"' in page


def test_export_runs_past_one_page_of_levels(login, db, shop):
    for n in range(230):
        catalog.create_product(sku=f"P{n:04d}", name=f"Part {n}", unit_price=Decimal("1.00"), actor=ACTOR)
        receive("AMS", f"P{n:04d}", 1)

    export = login("ops").get("/inventory/export.csv", buffered=True)
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))

    assert len(rows) == 1 + 231
    assert len({(r[0], r[2]) for r in rows[1:]}) == 231


# Verify -------------------------------------------------------------------------------


def test_verify_shows_no_drift_then_the_drift_a_bad_update_made(login, db, shop):
    client = login("manager")

    clean = client.get("/inventory/verify").get_data(as_text=True)

    assert 'data-testid="drift-count">0<' in clean and "no drift found" in clean
    assert 'data-testid="levels-checked">1<' in clean and 'data-testid="moves-counted">1<' in clean
    assert re.search(r'data-testid="elapsed">\d+ ms<', clean)

    db.session.execute(text("UPDATE stock_levels SET on_hand = on_hand + 3"))
    db.session.commit()
    rerun = client.get("/inventory/verify", headers=HX).get_data(as_text=True)

    assert rerun.lstrip().startswith('<section id="verify-report"')
    assert 'data-testid="drift-count">1<' in rerun
    assert "MUG@AMS: on hand differs from the sum of its ledger moves (recorded 7, expected 4)" in rerun


def test_verify_is_for_managers_and_admins(login, shop):
    assert login("ops").get("/inventory/verify").status_code == 403
    assert login("admin").get("/inventory/verify").status_code == 200


# Routing preview ------------------------------------------------------------------------


@pytest.fixture
def misrouted(db, shop):
    """SO-000001 took the only Leipzig tee; then tees arrived in Amsterdam, which serves NL."""
    receive("LEJ", "TEE", 1)
    first = place_order("R-1", [("TEE", 1)])
    receive("AMS", "TEE", 5)
    second = place_order("R-2", [("MUG", 1)], placed_at=T0 + timedelta(hours=1))
    return first, second


def test_routing_list_shows_open_orders_oldest_first_with_filters(login, db, misrouted):
    first, second = misrouted
    held = place_order("R-3", [("CAP", 2)], placed_at=T0 + timedelta(hours=2))  # no caps anywhere: held for stock
    client = login("ops")

    every = client.get("/inventory/routing").get_data(as_text=True)
    stock_holds = client.get("/inventory/routing?status=on_hold&hold=stock").get_data(as_text=True)

    assert re.findall(r'\sid="routable-([^"]+)"', every) == [first.number, second.number, held.number]
    assert re.findall(r'\sid="routable-([^"]+)"', stock_holds) == [held.number]
    row = re.search(rf'id="routable-{first.number}".*?</tr>', every, re.S).group(0)
    assert '<span class="loc">LEJ</span>' in row
    assert 'name="orders" value="' + first.number + '"' in row


def test_routing_preview_writes_nothing_and_apply_reroutes(login, db, misrouted):
    first, second = misrouted
    client = login("ops")
    events, moves = count(db, Event), count(db, StockMove)
    allocations_before = sorted(db.session.execute(select(Allocation.order_id, Allocation.location_id)).all())

    preview = client.post("/inventory/routing/preview", headers=HX, data={"orders": [first.number, second.number]})

    body = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert body.lstrip().startswith('<section id="routing-result"')
    assert 'data-testid="changing-count">1 would change<' in body
    first_row = re.search(rf'data-order="{first.number}".*?</tr>', body, re.S).group(0)
    assert 'data-testid="differs">AMS<' in first_row and 'data-testid="shipments">1<' in first_row
    assert '<span class="loc">AMS</span> 1' in first_row
    second_row = re.search(rf'data-order="{second.number}".*?</tr>', body, re.S).group(0)
    assert "same" in second_row
    assert (count(db, Event), count(db, StockMove)) == (events, moves)
    assert sorted(db.session.execute(select(Allocation.order_id, Allocation.location_id)).all()) == allocations_before

    applied = client.post("/inventory/routing/apply", headers=HX, data={"orders": [first.number, second.number]})

    assert applied.status_code == 200
    assert toast(applied)["message"] == "Re-routed 2 orders."
    result = applied.get_data(as_text=True)
    assert re.search(rf'data-order="{first.number}".*?data-testid="applied-locations">AMS<', result, re.S)
    db.session.expire_all()
    assert [a.location.code for line in first.lines for a in line.allocations] == ["AMS"]
    assert on_hand(db, "TEE", "LEJ") == 1
    reserved = {lv.location.code: lv.reserved for lv in db.session.scalars(select(StockLevel))
                if lv.product.sku == "TEE"}
    assert reserved == {"AMS": 1, "LEJ": 0}


def test_routing_preview_without_a_selection_says_so(login, db, misrouted):
    client = login("ops")

    nothing = client.post("/inventory/routing/preview", headers=HX, data={})
    unknown = client.post("/inventory/routing/preview", headers=HX, data={"orders": ["SO-999999"]})

    assert nothing.status_code == unknown.status_code == 422
    assert 'data-testid="routing-error">Select at least one order.<' in nothing.get_data(as_text=True)
    assert "Unknown orders: SO-999999." in unknown.get_data(as_text=True)


def test_plain_routing_apply_redirects_with_a_message(login, db, misrouted):
    first, _ = misrouted
    client = login("manager")

    page = client.post("/inventory/routing/preview", data={"orders": [first.number]}).get_data(as_text=True)
    response = client.post("/inventory/routing/apply", data={"orders": [first.number]})

    assert "<html" in page and 'id="routing-table"' in page and 'data-testid="apply-routing"' in page
    assert re.search(rf'value="{first.number}"[^>]*checked', page)
    assert response.status_code == 303 and response.headers["Location"].endswith("/inventory/routing")
    assert "Re-routed 1 order." in client.get("/inventory/routing").get_data(as_text=True)


# Who may -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/inventory/receive"),
        ("POST", "/inventory/receive"),
        ("POST", "/inventory/adjust"),
        ("POST", "/inventory/transfer"),
        ("GET", "/inventory/counts"),
        ("POST", "/inventory/counts/preview"),
        ("POST", "/inventory/counts/import"),
        ("GET", "/inventory/export.csv"),
        ("GET", "/inventory/verify"),
        ("GET", "/inventory/routing"),
        ("POST", "/inventory/routing/preview"),
        ("POST", "/inventory/routing/apply"),
    ],
)
def test_finance_gets_403_everywhere_in_inventory(login, db, shop, method, url):
    client = login("finance")
    moves = count(db, StockMove)

    response = client.open(url, method=method, data={"sku": "MUG", "location": "AMS", "qty": "1"}
                           if method == "POST" else None)

    assert response.status_code == 403
    assert count(db, StockMove) == moves
