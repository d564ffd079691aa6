"""Pick priority, pick lists, combined parcels and scanning rules (app/domain/picking.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.errors import Conflict, ValidationFailed
from app.domain.picking import (
    PackLine,
    ParcelCandidate,
    PickItem,
    QueueEntry,
    TooMany,
    WrongItem,
    bin_key,
    combinable_parcels,
    fully_packed,
    in_pick_order,
    next_by_priority,
    pick_list,
    place_scan,
)

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def entry(number, ship_by_h=None, placed_h=0, lines=1, id_=0):
    return QueueEntry(
        number=number,
        ship_by=None if ship_by_h is None else T + timedelta(hours=ship_by_h),
        placed_at=T + timedelta(hours=placed_h),
        line_count=lines,
        id=id_,
    )


def test_earliest_ship_by_first_then_oldest_then_single_line():
    entries = [
        entry("late-deadline", ship_by_h=48, placed_h=-10),
        entry("multi", ship_by_h=24, placed_h=-5, lines=3),
        entry("single", ship_by_h=24, placed_h=-5, lines=1),
        entry("older", ship_by_h=24, placed_h=-6, lines=4),
        entry("no-deadline", ship_by_h=None, placed_h=-100),
        entry("urgent", ship_by_h=2, placed_h=0, lines=2),
    ]
    assert [e.number for e in in_pick_order(entries)] == [
        "urgent",
        "older",
        "single",
        "multi",
        "late-deadline",
        "no-deadline",
    ]


def test_ties_fall_back_to_the_order_that_arrived_first():
    a, b = entry("b", ship_by_h=5, id_=2), entry("a", ship_by_h=5, id_=1)
    assert [e.number for e in in_pick_order([a, b])] == ["a", "b"]


def test_next_n_takes_the_first_by_priority():
    entries = [entry(f"o{i}", ship_by_h=10 - i) for i in range(5)]
    assert [e.number for e in next_by_priority(entries, 2)] == ["o4", "o3"]
    with pytest.raises(ValidationFailed):
        next_by_priority(entries, 0)


def test_bins_sort_naturally_and_missing_bins_go_last():
    bins = ["B-1", "", "A-10", "a-2", "A-1-03"]
    assert sorted(bins, key=bin_key) == ["A-1-03", "a-2", "A-10", "B-1", ""]


def test_pick_list_sums_per_sku_and_bin_and_says_which_order_gets_what():
    rows = pick_list(
        [
            PickItem("SO-2", "MUG", "Mug", "A-10", 2),
            PickItem("SO-1", "MUG", "Mug", "A-10", 1),
            PickItem("SO-1", "TEE", "Tee", "A-2", 3),
            PickItem("SO-3", "CAP", "Cap", "", 1),
            PickItem("SO-2", "MUG", "Mug", "A-10", 1),
        ]
    )
    assert [(r.bin, r.sku, r.qty) for r in rows] == [("A-2", "TEE", 3), ("A-10", "MUG", 4), ("", "CAP", 1)]
    assert rows[1].orders == (("SO-1", 1), ("SO-2", 3))


def test_orders_of_one_customer_to_one_address_are_combinable():
    home = ("Ada Buyer", "Damrak 1", "", "1011 AB", "Amsterdam", "NL")
    groups = combinable_parcels(
        [
            ParcelCandidate("SO-3", 1, home),
            ParcelCandidate(
                "SO-1", 1, ("ada buyer", "Damrak  1", "", "1011AB", "AMSTERDAM", "NL")
            ),  # typed differently
            ParcelCandidate("SO-2", 1, ("Ada Buyer", "Kalverstraat 5", "", "1012 NX", "Amsterdam", "NL")),  # elsewhere
            ParcelCandidate("SO-4", 2, home),  # someone else at the same address
            ParcelCandidate("SO-5", 3, home),
            ParcelCandidate("SO-6", 3, home),
        ]
    )
    assert groups == [("SO-1", "SO-3"), ("SO-5", "SO-6")]


def lines():
    return [PackLine("MUG", "8712345678906", 2, 0), PackLine("TEE", None, 1, 0), PackLine("MUG", None, 1, 0)]


def test_a_scan_goes_to_the_first_line_that_still_needs_it_by_sku_or_barcode():
    packing = lines()
    assert place_scan(packing, "MUG") == 0
    assert place_scan(packing, " mug ") == 0  # scanners add spaces, people type lower case
    assert place_scan(packing, "8712345678906") == 0
    assert place_scan(packing, "TEE") == 1
    packing[0] = PackLine("MUG", "8712345678906", 2, 2)
    assert place_scan(packing, "MUG") == 2


def test_a_unit_not_in_the_parcel_is_refused_loudly():
    with pytest.raises(WrongItem, match="“CAP” is not in this parcel") as exc:
        place_scan(lines(), "CAP")
    assert isinstance(exc.value, ValidationFailed) and exc.value.http_status == 422
    with pytest.raises(WrongItem, match="Scan a barcode"):
        place_scan(lines(), "  ")


def test_one_unit_too_many_is_refused_loudly():
    full = [PackLine("MUG", None, 2, 2), PackLine("TEE", None, 1, 0), PackLine("MUG", None, 1, 1)]
    with pytest.raises(TooMany, match="Too many MUG: the parcel needs 3 and all 3 are already packed") as exc:
        place_scan(full, "MUG")
    assert isinstance(exc.value, Conflict) and exc.value.http_status == 409


def test_fully_packed():
    assert not fully_packed(lines())
    assert fully_packed([PackLine("MUG", None, 2, 2)])
