"""The order state machine, checked pair by pair against DESIGN.md §4."""

import itertools

import pytest

from app.domain.errors import IllegalTransition
from app.domain.order_states import ALLOWED, OrderStatus, check_transition

# DESIGN.md §4, written out again by hand so that a change to ALLOWED must be
# deliberate in two places.
EXPECTED = {
    ("new", "ready"), ("new", "on_hold"), ("new", "cancelled"),
    ("on_hold", "ready"), ("on_hold", "new"), ("on_hold", "cancelled"),
    ("ready", "picking"), ("ready", "on_hold"), ("ready", "cancelled"),
    ("picking", "packed"), ("picking", "ready"), ("picking", "on_hold"),
    ("packed", "shipped"), ("packed", "partially_shipped"),
    ("partially_shipped", "shipped"), ("partially_shipped", "picking"),
    ("shipped", "delivered"),
}
PAIRS = list(itertools.product(OrderStatus.values(), repeat=2))


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_every_pair_is_allowed_exactly_when_the_design_says(current, target):
    if (current, target) in EXPECTED:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition) as exc:
            check_transition(current, target)
        assert OrderStatus(current).label in exc.value.message


def test_table_matches_design():
    actual = {(a.value, b.value) for a, targets in ALLOWED.items() for b in targets}
    assert actual == EXPECTED


def test_final_states_say_so():
    with pytest.raises(IllegalTransition, match="final"):
        check_transition("delivered", "shipped")


def test_message_lists_what_is_possible():
    with pytest.raises(IllegalTransition, match="picking"):
        check_transition("ready", "shipped")
