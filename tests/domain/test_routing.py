"""Routing: one location if possible, region first, then priority; fewest splits; backorder."""

from hypothesis import given
from hypothesis import strategies as st

from app.domain.routing import Candidate, Destination, Need, plan_allocation, serves

NL = Destination(country="NL", postcode="1011 AB")
US_NJ = Destination(country="US", region="NJ", postcode="07001")


def loc(loc_id, priority, stock, regions=()):
    return Candidate(location_id=loc_id, code=f"L{loc_id}", priority=priority, regions=tuple(regions),
                     available=stock)


def test_one_location_that_ships_everything_wins_over_a_split():
    plan = plan_allocation(
        [Need(1, 100, 2), Need(2, 200, 1)],
        [loc(1, 1, {100: 2}), loc(2, 2, {200: 5}), loc(3, 3, {100: 5, 200: 5})],
        NL,
    )
    assert plan.complete and plan.locations == {3}


def test_region_beats_priority():
    plan = plan_allocation([Need(1, 100, 1)], [loc(1, 1, {100: 9}, ["DE"]), loc(2, 50, {100: 9}, ["NL"])], NL)
    assert plan.allocations == [(1, 2, 1)]


def test_priority_breaks_ties_lower_first():
    plan = plan_allocation([Need(1, 100, 1)], [loc(1, 20, {100: 9}), loc(2, 10, {100: 9})], NL)
    assert plan.allocations == [(1, 2, 1)]


def test_postcode_prefix_and_region_codes():
    assert serves(["US-NJ"], US_NJ) and serves(["US:07"], US_NJ) and not serves(["US:9"], US_NJ)
    assert serves(["nl"], NL) and not serves(["DE"], NL)


def test_split_over_the_fewest_locations():
    plan = plan_allocation(
        [Need(1, 100, 3), Need(2, 200, 3)],
        [loc(1, 1, {100: 3}), loc(2, 2, {200: 1}), loc(3, 3, {200: 2}), loc(4, 4, {200: 3})],
        NL,
    )
    assert plan.complete and plan.locations == {1, 4}


def test_short_stock_allocates_what_exists_and_reports_the_rest():
    plan = plan_allocation([Need(1, 100, 5)], [loc(1, 1, {100: 2}), loc(2, 2, {100: 1})], NL)
    assert sorted(plan.allocations) == [(1, 1, 2), (1, 2, 1)]
    assert plan.short == {1: 2}


def test_priority_split_takes_from_the_first_location_first():
    plan = plan_allocation(
        [Need(1, 100, 3)], [loc(1, 1, {100: 2}), loc(2, 2, {100: 9})], NL, strategy="priority_split"
    )
    assert plan.allocations == [(1, 1, 2), (1, 2, 1)]


def test_same_product_on_two_lines_is_counted_together():
    plan = plan_allocation([Need(1, 100, 2), Need(2, 100, 2)], [loc(1, 1, {100: 3}), loc(2, 2, {100: 4})], NL)
    assert plan.complete and plan.locations == {2}


stock_maps = st.dictionaries(st.integers(1, 4), st.integers(0, 6), max_size=4)


@given(
    needs=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 6)), min_size=1, max_size=5),
    stocks=st.lists(stock_maps, min_size=1, max_size=5),
    strategy=st.sampled_from(["single_first", "priority_split"]),
)
def test_plans_never_take_more_than_exists_and_account_for_every_unit(needs, stocks, strategy):
    need_objs = [Need(i, p, q) for i, (p, q) in enumerate(needs)]
    cands = [loc(i, i, s) for i, s in enumerate(stocks)]
    plan = plan_allocation(need_objs, cands, NL, strategy)
    taken: dict[tuple[int, int], int] = {}
    for line_id, loc_id, qty in plan.allocations:
        assert qty > 0
        product = need_objs[line_id].product_id
        taken[(loc_id, product)] = taken.get((loc_id, product), 0) + qty
    for (loc_id, product), qty in taken.items():
        assert qty <= cands[loc_id].available.get(product, 0)
    for need in need_objs:
        got = sum(q for line, _, q in plan.allocations if line == need.line_id)
        assert got + plan.short.get(need.line_id, 0) == need.qty
    total_free = {}
    for c in cands:
        for p, q in c.available.items():
            total_free[p] = total_free.get(p, 0) + q
    wanted = {}
    for n in need_objs:
        wanted[n.product_id] = wanted.get(n.product_id, 0) + n.qty
    # Short only when the network as a whole does not have the units.
    if all(total_free.get(p, 0) >= q for p, q in wanted.items()):
        assert plan.complete
