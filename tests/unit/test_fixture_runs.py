"""The order test's renamed runs (tests/e2e/fixture_runs.py) are the fixture lifecycles under
new ids, nothing else: each run is one payment, its event ids are its own, and it folds to
the state its original lifecycle folds to, once the run's suffix is taken off."""

from __future__ import annotations

import pytest

from contracts.payment_state import apply
from contracts.storage import PAYMENT_STATE_COLUMNS
from streams.simulation.signing import ProviderKeys
from tests.e2e.fixture_runs import runs
from tests.e2e.test_payment_state_orders import without_tag
from tests.lifecycles import lifecycles

TAG = "o12345601s"


def fold(events) -> dict:
    state = None
    for event in events:
        state = apply(state, event)
    return {name: getattr(state, name) for name in PAYMENT_STATE_COLUMNS}


@pytest.mark.parametrize("provider", ["stripe", "adyen", "braintree", "square"])
def test_a_run_is_its_lifecycle_under_new_ids(provider):
    renamed = runs(provider, TAG, ProviderKeys(), "whsec_test")
    assert renamed
    for name, requests in renamed.items():
        events = [r.event for r in requests]
        assert len({e.payment_id for e in events}) == 1
        assert TAG.upper() in events[0].payment_id.upper()
        assert all(TAG.upper() in e.event_id.upper() for e in events)
        assert len({e.event_id for e in events}) == len(events)
        original, renamed_state = fold(lifecycles()[f"{provider}:{name}"]), fold(events)
        if provider == "braintree":
            # Its run renames each notification's own payment id to the common one, and
            # Braintree's event id holds the subject id: only that id may differ.
            original.pop("last_event_id"), renamed_state.pop("last_event_id")
        assert without_tag(renamed_state, TAG) == original
