"""The property: every order of a payment's events, duplicates mixed in, gives one state.

Lifecycles are every payment in the fixtures of all four providers, mapped by the real
mappers (tests/lifecycles.py). Hypothesis draws orders as permutations of the events plus
duplicates of them; the state must equal the one folded in fixture order, lattice included.
"""

from __future__ import annotations

import functools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.payment_state import PaymentState, apply, from_json, join, to_json
from tests.lifecycles import lifecycles

LIFECYCLES = lifecycles()
# Examples per lifecycle: a single event still gets duplicates, a long one gets more orders.
# Over the 19 fixture lifecycles (9 of several events) this is 2,550 orders.
EXAMPLES_SINGLE, EXAMPLES_MANY = 30, 250


def fold(events) -> PaymentState:
    state = None
    for event in events:
        state = apply(state, event)
    return state


def examples_for(events) -> int:
    return EXAMPLES_SINGLE if len(events) == 1 else EXAMPLES_MANY


def test_the_fixtures_give_lifecycles_of_every_provider_and_the_budget_is_thousands():
    providers = {name.split(":", 1)[0] for name in LIFECYCLES}
    assert providers == {"stripe", "adyen", "braintree", "square"}
    assert max(len(events) for events in LIFECYCLES.values()) >= 18
    assert sum(examples_for(events) for events in LIFECYCLES.values()) >= 2_000


@pytest.mark.parametrize("name", sorted(LIFECYCLES))
def test_every_order_with_duplicates_gives_the_in_order_state(name):
    events = LIFECYCLES[name]
    expected = fold(events)

    @settings(max_examples=examples_for(events), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(events), max_size=len(events)).flatmap(
        lambda duplicates: st.permutations(events + tuple(duplicates))))
    def check(order):
        assert fold(order) == expected

    check()


@functools.cache
def _states_by_provider() -> dict[str, tuple]:
    return {name: events for name, events in LIFECYCLES.items() if name.endswith(":all-fixtures")}


_SUBSETS = st.sampled_from(sorted(_states_by_provider())).flatmap(
    lambda name: st.tuples(*[st.lists(st.sampled_from(_states_by_provider()[name]),
                                      min_size=1, max_size=6) for _ in range(3)]))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_SUBSETS)
def test_join_is_commutative_associative_and_idempotent(subsets):
    a, b, c = (fold(events) for events in subsets)
    assert join(a, b) == join(b, a)
    assert join(join(a, b), c) == join(a, join(b, c))
    assert join(a, a) == a
    # apply is the join with one event's state: folding the union equals joining the folds.
    assert fold(subsets[0] + subsets[1]) == join(a, b)


@pytest.mark.parametrize("name", sorted(LIFECYCLES))
def test_the_state_survives_its_json_round_trip(name):
    state = fold(LIFECYCLES[name])
    carried = json.loads(json.dumps(to_json(state)))
    assert from_json(state.provider, state.payment_id, carried) == state
