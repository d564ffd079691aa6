import itertools

import pytest

from app.domain.errors import IllegalTransition
from app.domain.return_states import ReturnStatus, check_return_transition

EXPECTED = {
    ("requested", "approved"), ("requested", "rejected"),
    ("approved", "received"), ("approved", "cancelled"),
    ("received", "closed"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ReturnStatus.values(), repeat=2)))
def test_return_transitions(current, target):
    if (current, target) in EXPECTED:
        check_return_transition(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_return_transition(current, target)
