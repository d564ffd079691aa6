"""Stock counts from a CSV file: reading what spreadsheets write, the dry run that writes
nothing, and booking every correction in one transaction (or none)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.errors import ValidationFailed
from app.extensions import db
from app.models import Event, Order, StockLevel, StockMove
from app.services import orders, stock_counts
from app.services.stock_counts import BadCountRows, CountRow, parse
from tests.services.conftest import ACTOR, NOW, order_body, stock


def level(sku: str, location: str) -> StockLevel | None:
    db.session.expire_all()
    return next((lv for lv in db.session.scalars(select(StockLevel))
                 if lv.product.sku == sku and lv.location.code == location), None)


def moves() -> int:
    return db.session.scalar(select(func.count()).select_from(StockMove))


def books_agree() -> None:
    """on_hand is the sum of the ledger, reserved the sum of live allocations."""
    from app.services.stock_verify import verify

    assert verify().drifts == []


# Reading the file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"sku,location,counted\nMUG,AMS,3\nTEE,LEJ,0\n",
        b"sku;location;counted\r\nMUG;AMS;3\r\nTEE;LEJ;0\r\n",
        "\ufeffsku;location;counted\r\nMUG;AMS;3\r\nTEE;LEJ;0".encode(),
        b"Counted , SKU , Location,name\n3,MUG,AMS,Blue mug\n\n0, TEE ,LEJ,Tee\n",
        b'"sku","location","counted"\n"MUG","AMS","3"\n"TEE","LEJ","0"\n',
    ],
    ids=["comma", "semicolon-crlf", "bom-no-final-newline", "any-order-extra-columns-blank-line", "quoted"],
)
def test_parse_reads_what_spreadsheets_write(data):
    rows = parse(data)

    assert [(r.sku, r.location, r.counted_text) for r in rows] == [("MUG", "AMS", "3"), ("TEE", "LEJ", "0")]
    assert rows[0].line == 2


def test_parse_reads_windows_1252_and_counts_lines_from_the_header():
    rows = parse("sku;location;counted\n\nCAFÉ;AMS;1\n".encode("cp1252"))

    assert rows == [CountRow(line=3, sku="CAFÉ", location="AMS", counted_text="1")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf\r\n", "The file is empty."),
        (b"sku,location,qty\nMUG,AMS,1\n", "The first row must name the columns sku, location and counted; "
                                           "missing: counted."),
        (b"MUG,AMS,1\n", "The first row must name the columns sku, location and counted; "
                         "missing: sku, location, counted."),
        (b"sku,location,counted,sku\nMUG,AMS,1,MUG\n", "The header names sku more than once."),
        (b"sku,location,counted\n", "The file has a header but no counts."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(data, message):
    with pytest.raises(ValidationFailed) as exc:
        parse(data)

    assert exc.value.message == message
    assert exc.value.details == {"file": [message]}


def test_parse_refuses_a_file_that_is_too_large():
    with pytest.raises(ValidationFailed, match="larger than 2 MB"):
        parse(b"sku,location,counted\n" + b"MUG,AMS,1\n" * 250_000)


# The dry run -----------------------------------------------------------------------------


def test_plan_shows_each_correction_and_writes_nothing(app, shop):
    stock("AMS", "MUG", 5)
    stock("LEJ", "TEE", 2)
    before = (moves(), db.session.scalar(select(func.count()).select_from(Event)))

    plan = stock_counts.preview(b"sku,location,counted\nMUG,AMS,3\nTEE,LEJ,2\nCAP,LEJ,4\n")

    assert [(p.row.sku, p.row.location, p.on_hand, p.counted, p.delta) for p in plan.rows] == [
        ("MUG", "AMS", 5, 3, -2), ("TEE", "LEJ", 2, 2, 0), ("CAP", "LEJ", 0, 4, 4)]
    assert [p.row.sku for p in plan.adjustments] == ["MUG", "CAP"]
    assert [p.row.sku for p in plan.unchanged] == ["TEE"]
    assert (plan.units_added, plan.units_removed, plan.bad) == (4, 2, [])
    assert (moves(), db.session.scalar(select(func.count()).select_from(Event))) == before
    assert level("CAP", "LEJ") is None


def test_plan_names_what_is_wrong_with_each_bad_row(app, shop):
    stock("AMS", "MUG", 5)
    order = orders.create_order(order_body("PK-1", lines=[("MUG", 3, "12.50")]), actor=ACTOR, now=NOW)[0]
    db.session.execute(Order.__table__.update().where(Order.id == order.id).values(status="packed"))
    db.session.commit()
    data = (b"sku,location,counted\n"
            b",AMS,1\n"
            b"TEE,,1\n"
            b"TEE,AMS,\n"
            b"NOPE,AMS,1\n"
            b"TEE,NOWHERE,1\n"
            b"TEE,AMS,1.5\n"
            b"TEE,AMS,-1\n"
            b"TEE,AMS,99999999999\n"
            b"CAP,LEJ,1\n"
            b"CAP,LEJ,1\n"
            b"MUG,AMS,2\n"
            b"MUG,LEJ,7\n")

    plan = stock_counts.preview(data)

    assert {p.row.line: p.problem for p in plan.bad} == {
        2: "No SKU given.",
        3: "No location given.",
        4: "No count given.",
        5: "Unknown SKU NOPE.",
        6: "Unknown location NOWHERE.",
        7: "“1.5” is not a whole number.",
        8: "A count cannot be negative (-1).",
        9: "99999999999 is more than a count can be (10,000,000).",
        10: "CAP at LEJ is counted more than once (lines 10, 11).",
        11: "CAP at LEJ is counted more than once (lines 10, 11).",
        12: "3 units are packed or shipping here; the count cannot be lower than that.",
    }
    assert [(p.row.line, p.delta) for p in plan.adjustments] == [(13, 7)]


# Booking ----------------------------------------------------------------------------------


def test_apply_books_every_correction_with_reason_count_in_one_go(app, shop):
    stock("AMS", "MUG", 5)
    stock("LEJ", "TEE", 2)

    result = stock_counts.apply(b"sku;location;counted\nMUG;AMS;3\nTEE;LEJ;2\nCAP;LEJ;4\n", actor=ACTOR,
                                source="hall-b.csv", now=NOW)

    assert result.reference == "COUNT-20260302-090000"
    assert (level("MUG", "AMS").on_hand, level("TEE", "LEJ").on_hand, level("CAP", "LEJ").on_hand) == (3, 2, 4)
    booked = db.session.scalars(select(StockMove).where(StockMove.reference == result.reference)
                                .order_by(StockMove.id)).all()
    assert sorted((m.kind, m.qty, m.reason) for m in booked) == [
        ("adjustment", -2, "count: counted 3, was 5"), ("adjustment", 4, "count: counted 4, was 0")]
    summary = db.session.scalar(select(Event).where(Event.action == "stock_count_imported"))
    assert summary.entity_id == result.reference
    assert summary.details == {"source": "hall-b.csv", "adjusted": 2, "unchanged": 1, "skipped_lines": []}
    books_agree()


def test_one_bad_row_books_nothing_unless_bad_rows_are_skipped(app, shop):
    stock("AMS", "MUG", 5)
    data = b"sku,location,counted\nMUG,AMS,9\nNOPE,AMS,1\n"
    before = moves()

    with pytest.raises(BadCountRows) as exc:
        stock_counts.apply(data, actor=ACTOR, now=NOW)

    assert exc.value.message.startswith("1 row of the file cannot be booked, so nothing was imported.")
    assert exc.value.details == {"rows": {"3": "Unknown SKU NOPE."}}
    assert (moves(), level("MUG", "AMS").on_hand) == (before, 5)

    result = stock_counts.apply(data, actor=ACTOR, skip_bad=True, now=NOW)

    assert [p.row.line for p in result.skipped] == [3]
    assert (moves(), level("MUG", "AMS").on_hand) == (before + 1, 9)
    books_agree()


def test_apply_books_against_stock_as_it_is_when_confirmed(app, shop):
    stock("AMS", "MUG", 5)
    data = b"sku,location,counted\nMUG,AMS,8\n"
    assert stock_counts.preview(data).adjustments[0].delta == 3

    stock("AMS", "MUG", 2)  # a delivery booked between the dry run and the confirmation
    result = stock_counts.apply(data, actor=ACTOR, now=NOW)

    assert result.plan.adjustments[0].delta == 1
    assert level("MUG", "AMS").on_hand == 8


def test_a_count_below_reservations_reroutes_the_orders_that_lose_stock(app, shop):
    stock("AMS", "MUG", 3)
    stock("LEJ", "MUG", 5)
    order = orders.create_order(order_body("C-1", lines=[("MUG", 2, "12.50")]), actor=ACTOR, now=NOW)[0]
    assert [a.location.code for a in order.lines[0].allocations] == ["AMS"]

    stock_counts.apply(b"sku,location,counted\nMUG,AMS,0\n", actor=ACTOR, now=NOW)

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert [(a.location.code, a.qty) for a in order.lines[0].allocations] == [("LEJ", 2)]
    assert (level("MUG", "AMS").reserved, level("MUG", "LEJ").reserved) == (0, 2)
    books_agree()


def test_a_count_that_finds_stock_releases_orders_waiting_for_it(app, shop):
    order = orders.create_order(order_body("C-2", lines=[("TEE", 2, "25.00")]), actor=ACTOR, now=NOW)[0]
    assert (order.status, order.hold_reason) == ("on_hold", "stock")

    stock_counts.apply(b"sku,location,counted\nTEE,AMS,2\n", actor=ACTOR, now=NOW)

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.hold_reason != "stock" and order.lines[0].qty_allocated == 2
    assert level("TEE", "AMS").reserved == 2
    books_agree()
