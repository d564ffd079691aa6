"""Returns through the API, as an integrator's script (or a helpdesk tool) sees them:
every endpoint, the return's JSON shape of DESIGN.md §6, and every error code."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Location, Order, StockMove
from app.services.tx import begin_write
from tests.fulfillment_scenes import ready_order
from tests.services.conftest import shop, stock  # noqa: F401  (shop is a fixture)
from tests.services.test_returns import shipped_mugs_and_tee, stocked  # noqa: F401  (stocked is a fixture)

pytestmark = pytest.mark.usefixtures("stocked")


def create(api, order: str, lines=(("MUG", 1),), reason: str = "damaged", **extra):
    body = {"order": order, "lines": [{"sku": s, "qty": q} for s, q in lines], "reason": reason, **extra}
    return api.post("/api/v1/returns", json=body)


def move(api, number: str, to: str, **body):
    return api.post(f"/api/v1/returns/{number}/transition", json={"to": to, **body})


def error_of(response) -> tuple[int, str]:
    assert set(response.json) >= {"error", "message"}, response.json
    return response.status_code, response.json["error"]


@pytest.fixture
def order():
    return shipped_mugs_and_tee("API-R")


def test_opening_a_return_answers_201_with_the_documented_shape(api, order):
    response = create(api, order, (("MUG", 2), ("TEE", 1)), "not_as_described", reason_note="wrong colour",
                      resolution="exchange")

    assert response.status_code == 201, response.json
    body = response.json
    assert {k: body[k] for k in ("number", "order", "status", "reason", "reason_note", "resolution", "refund_total",
                                 "version", "exchange_order", "refunds")} == {
        "number": "RMA-000001", "order": order, "status": "requested", "reason": "not_as_described",
        "reason_note": "wrong colour", "resolution": "exchange", "refund_total": "0.00", "version": 1,
        "exchange_order": None, "refunds": []}
    assert body["lines"] == [
        {"sku": "MUG", "qty": 2, "qty_received": 0, "not_returned": False, "received": []},
        {"sku": "TEE", "qty": 1, "qty_received": 0, "not_returned": False, "received": []},
    ]
    assert body["requested_at"].endswith("+00:00")


def test_opening_errors(api, order):
    assert error_of(create(api, "SO-999999")) == (404, "not_found")
    assert error_of(create(api, order, (("MUG", 3),))) == (422, "validation_error")
    assert create(api, order, (("MUG", 3),)).json["details"] == {
        "lines": {"0": ["Only 2 × MUG can still be returned (2 shipped, 0 already in other returns)."]}}
    unshipped = ready_order("API-READY")
    refused = create(api, unshipped)
    assert error_of(refused) == (409, "not_returnable")
    assert "has not shipped anything yet" in refused.json["message"]
    assert error_of(create(api, order, reason="bored")) == (422, "validation_error")
    assert error_of(create(api, order, reason="other")) == (422, "validation_error")
    assert error_of(api.post("/api/v1/returns", json={"order": order})) == (422, "validation_error")
    assert error_of(api.post("/api/v1/returns", data="{", headers={"Content-Type": "application/json"}))[0] == 400


def test_two_rmas_through_the_api_cannot_claim_the_same_unit(api, order):
    assert create(api, order, (("MUG", 2),)).status_code == 201
    second = create(api, order, (("MUG", 1),))
    assert error_of(second) == (422, "validation_error")
    assert "2 already in other returns" in second.json["message"]


def test_finance_reads_returns_but_does_not_open_them(api_as, order):
    finance = api_as("finance")
    assert error_of(create(finance, order)) == (403, "forbidden")
    number = create(api_as("ops"), order).json["number"]
    assert finance.get(f"/api/v1/returns/{number}").status_code == 200
    refused = move(finance, number, "approved")
    assert error_of(refused) == (403, "forbidden") and "is for ops" in refused.json["message"]


def test_reading_one_and_listing_with_filters_and_cursor(api, order):
    numbers = [create(api, order, ((sku, 1),)).json["number"] for sku in ("MUG", "MUG", "TEE")]
    move(api, numbers[0], "approved")
    other = shipped_mugs_and_tee("API-OTHER")
    create(api, other)

    one = api.get(f"/api/v1/returns/{numbers[1]}")
    assert (one.status_code, one.json["number"], one.json["status"]) == (200, numbers[1], "requested")
    assert error_of(api.get("/api/v1/returns/RMA-999999")) == (404, "not_found")

    first_page = api.get("/api/v1/returns?limit=2")
    assert [r["number"] for r in first_page.json["items"]] == ["RMA-000001", "RMA-000002"]
    second_page = api.get(f"/api/v1/returns?limit=2&cursor={first_page.json['next_cursor']}")
    assert [r["number"] for r in second_page.json["items"]] == ["RMA-000003", "RMA-000004"]
    assert second_page.json["next_cursor"] is None
    assert [r["number"] for r in api.get("/api/v1/returns?status=requested").json["items"]] == [
        "RMA-000002", "RMA-000003", "RMA-000004"]
    assert [r["number"] for r in api.get(f"/api/v1/returns?order={other}").json["items"]] == ["RMA-000004"]
    assert error_of(api.get("/api/v1/returns?status=lost")) == (422, "validation_error")
    assert error_of(api.get("/api/v1/returns?cursor=nonsense")) == (422, "validation_error")


def test_the_whole_workflow_receive_twice_then_refund(api_as, order):
    ops, finance = api_as("ops"), api_as("finance")
    number = create(ops, order, (("MUG", 2), ("TEE", 1))).json["number"]
    approved = move(ops, number, "approved", reason="label sent", version=1)
    assert (approved.status_code, approved.json["status"], approved.json["version"]) == (200, "approved", 2)

    # One parcel: the same SKU named twice (part restocked, part written off), the tee comes later.
    received = move(ops, number, "received", version=2, lines=[
        {"sku": "MUG", "qty": 1, "disposition": "restock", "location": "AMS"},
        {"sku": "MUG", "qty": 1, "disposition": "write_off"},
    ])
    assert received.status_code == 200, received.json
    assert received.json["status"] == "received"
    mug = received.json["lines"][0]
    assert [{k: r[k] for k in ("qty", "condition", "disposition", "location")} for r in mug["received"]] == [
        {"qty": 1, "condition": "resellable", "disposition": "restock", "location": "AMS"},
        {"qty": 1, "condition": "damaged", "disposition": "write_off", "location": None},
    ]
    assert error_of(move(finance, number, "closed")) == (409, "illegal_transition")  # the tee is still awaited
    again = move(ops, number, "received", lines=[{"sku": "TEE", "qty": 1, "disposition": "restock",
                                                  "location": "AMS", "condition": "resellable"}])
    assert again.json["lines"][1]["qty_received"] == 1

    assert error_of(move(ops, number, "closed")) == (403, "forbidden")  # refunds are finance's
    closed = move(finance, number, "closed", refund={"include_shipping": True, "method": "card"})
    assert closed.status_code == 200, closed.json
    assert (closed.json["status"], closed.json["refund_total"]) == ("closed", "54.95")
    assert [(r["amount"], r["credit_note"], r["method"]) for r in closed.json["refunds"]] == [
        ("54.95", "CN-2026-000001", "card")]
    order_json = finance.get(f"/api/v1/orders/{order}").json
    assert order_json["payment_status"] == "refunded"
    assert [(ln["sku"], ln["qty_returned"]) for ln in order_json["lines"]] == [("MUG", 2), ("TEE", 1)]
    invoices = finance.get(f"/api/v1/invoices?order={order}").json["items"]
    assert [(i["number"], i["kind"], i["total"]) for i in invoices] == [
        ("INV-2026-000001", "invoice", "54.95"), ("CN-2026-000001", "credit_note", "54.95")]


def test_a_lowered_refund_and_its_errors(api, order):
    number = create(api, order, (("TEE", 1),)).json["number"]
    move(api, number, "approved")
    move(api, number, "received", lines=[{"sku": "TEE", "qty": 1, "disposition": "restock", "location": "AMS"}])
    too_much = move(api, number, "closed", refund={"amount": "60.00", "reason": "sorry"})
    assert error_of(too_much) == (422, "validation_error")
    assert too_much.json["details"] == {"amount": ["At most 25.00."]}
    assert error_of(move(api, number, "closed", refund={"amount": "20.00"})) == (422, "validation_error")
    assert error_of(move(api, number, "closed", refund={"amount": "20.001"})) == (422, "validation_error")
    lowered = move(api, number, "closed", refund={"amount": "20.00", "reason": "worn once"})
    assert (lowered.status_code, lowered.json["refund_total"]) == (200, "20.00")


def test_refunding_more_than_was_paid_answers_422(api, order):
    number = create(api, order, (("TEE", 1),)).json["number"]
    move(api, number, "approved")
    move(api, number, "received", lines=[{"sku": "TEE", "qty": 1, "disposition": "restock", "location": "AMS"}])
    db.session.rollback()
    session = begin_write()
    paid = session.scalar(select(Order).where(Order.number == order))
    paid.refunded_amount = paid.paid_amount - 5  # a goodwill refund paid out earlier
    session.commit()
    refused = move(api, number, "closed")
    assert error_of(refused) == (422, "validation_error")
    assert refused.json["message"] == "25.00 EUR is more than was paid: only 5.00 EUR of this order's payments is " \
                                      "left to refund."
    assert api.get(f"/api/v1/returns/{number}").json["status"] == "received"


def test_an_exchange_answers_with_the_replacement_order(api, order):
    number = create(api, order, (("MUG", 1),), resolution="exchange").json["number"]
    move(api, number, "approved")
    move(api, number, "received", lines=[{"sku": "MUG", "qty": 1, "disposition": "restock", "location": "AMS"}])
    closed = move(api, number, "closed")
    assert (closed.status_code, closed.json["exchange_order"], closed.json["refund_total"]) == (
        200, "SO-000002", "0.00")
    replacement = api.get("/api/v1/orders/SO-000002").json
    assert (replacement["external_id"], replacement["total"], replacement["status"]) == (
        f"{number}-EXCHANGE", "0.00", "ready")


def test_a_stale_version_answers_409_and_records_nothing(api, order):
    number = create(api, order, (("MUG", 2),)).json["number"]
    version = move(api, number, "approved").json["version"]
    first = move(api, number, "received", version=version,
                 lines=[{"sku": "MUG", "qty": 1, "disposition": "restock", "location": "AMS"}])
    assert first.status_code == 200
    second = move(api, number, "received", version=version,
                  lines=[{"sku": "MUG", "qty": 1, "disposition": "write_off"}])
    assert error_of(second) == (409, "stale_version")
    assert "changed by someone else" in second.json["message"]
    assert second.json["details"] == {"status": "received", "version": version + 1}
    assert [r["qty"] for r in api.get(f"/api/v1/returns/{number}").json["lines"][0]["received"]] == [1]


def test_transition_errors(api, order):
    number = create(api, order, (("MUG", 1),)).json["number"]
    assert error_of(move(api, "RMA-999999", "approved")) == (404, "not_found")
    assert error_of(move(api, number, "received", lines=[
        {"sku": "MUG", "qty": 1, "disposition": "restock", "location": "AMS"}])) == (409, "illegal_transition")
    assert error_of(move(api, number, "lost")) == (422, "validation_error")
    assert error_of(move(api, number, "rejected")) == (422, "validation_error")  # needs a reason
    move(api, number, "approved")
    session = begin_write()
    session.scalar(select(Location).where(Location.code == "LEJ")).active = False
    session.commit()
    inactive = move(api, number, "received", lines=[
        {"sku": "MUG", "qty": 1, "disposition": "restock", "location": "LEJ"}])
    assert error_of(inactive) == (422, "validation_error")
    assert inactive.json["message"] == "Location LEJ is inactive; restock the goods to an active location."
    assert db.session.scalar(select(StockMove).where(StockMove.kind == "return_restock")) is None
    bad = move(api, number, "received", lines=[{"sku": "MUG", "qty": 1, "disposition": "restock"}])
    assert (error_of(bad), bad.json["details"]) == (
        (422, "validation_error"), {"lines": {"0": ["Choose the location MUG is restocked to."]}})
    assert error_of(move(api, number, "received", lines=[{"sku": "MUG", "qty": "1", "disposition": "restock"}])) \
        == (422, "validation_error")
    assert error_of(move(api, number, "requested")) == (409, "illegal_transition")
    assert move(api, number, "cancelled", reason="kept it").json["status"] == "cancelled"
    assert error_of(move(api, number, "approved")) == (409, "illegal_transition")


def test_the_openapi_document_lists_the_returns_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/returns", "/api/v1/returns/{number}", "/api/v1/returns/{number}/transition"} <= set(paths)
    assert set(paths["/api/v1/returns"]) == {"get", "post"}
