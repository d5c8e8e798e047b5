"""The lifecycle rules, one at a time: forward-only status, sums of refunds and disputes,
idempotent duplicates, and ties broken by the provider's clock, never by arrival."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest

from contracts.events import EventType
from contracts.lifecycle import LIFECYCLES, PaymentStatus, transition
from contracts.payment_state import apply
from contracts.providers import (
    ADYEN_EVENT_TYPES,
    BRAINTREE_EVENT_TYPES,
    PROVIDER_NAMES,
    SQUARE_PAYMENT_STATUSES,
    SQUARE_REFUND_TYPES,
    STRIPE_EVENT_TYPES,
)
from tests.builders import make_payment_event

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def event(event_type: str, at: int = 0, **overrides):
    """One event of payment pi_1 (Stripe unless said), ``at`` seconds after T0."""
    values = {"payment_id": "pi_1", "event_type": event_type, "status": event_type.split(".")[1],
              "provider_created_at": T0 + timedelta(seconds=at), "amount_cents": 5_000}
    return make_payment_event(**{**values, **overrides})


def fold(*events):
    state = None
    for e in events:
        state = apply(state, e)
    return state


def test_every_provider_has_a_transition_for_every_type_its_mapper_emits():
    emitted = {
        "stripe": set(STRIPE_EVENT_TYPES.values()),
        "adyen": {t for t, _ in ADYEN_EVENT_TYPES.values()},
        "braintree": set(BRAINTREE_EVENT_TYPES.values()),
        "square": set(SQUARE_PAYMENT_STATUSES.values()) | set(SQUARE_REFUND_TYPES.values())
        | {EventType.REFUND_FAILED},
    }
    assert set(LIFECYCLES) == set(PROVIDER_NAMES)
    for provider, types in emitted.items():
        assert types <= set(LIFECYCLES[provider]), provider
    assert transition("stripe", "no.such_type").status is PaymentStatus.UNKNOWN


def test_succeeded_never_returns_to_processing():
    succeeded = event("payment.succeeded", at=10)
    processing = event("payment.processing", at=20)  # later by the provider's clock, even
    for order in permutations([succeeded, processing]):
        state = fold(*order)
        assert state.status == "succeeded"
        assert state.amount_captured == 5_000
    assert fold(processing, succeeded).last_event_id == processing.event_id


@pytest.mark.parametrize(("provider", "loser", "winner"), [
    ("stripe", "payment.failed", "payment.succeeded"),  # a failed attempt, then a retry paid
    ("stripe", "payment.canceled", "payment.succeeded"),
    ("adyen", "payment.succeeded", "payment.canceled"),  # authorised, then cancelled
    ("adyen", "payment.succeeded", "charge.failed"),  # authorised, then capture failed
    ("square", "payment.authorized", "payment.canceled"),
])
def test_failed_or_canceled_against_succeeded_is_decided_by_rank(provider, loser, winner):
    # The loser is later by the provider's clock: rank decides, not time, not arrival.
    a = event(loser, at=99, provider=provider)
    b = event(winner, at=1, provider=provider)
    assert fold(a, b).status == fold(b, a).status == transition(provider, winner).status


def test_same_rank_tie_is_broken_by_provider_time_not_arrival():
    # Stripe: a failed attempt and processing share rank 1 (the customer may try again).
    failed = event("payment.failed", at=5)
    retried = event("payment.processing", at=9)
    assert fold(failed, retried).status == fold(retried, failed).status == "processing"
    late_failure = event("payment.failed", at=12)
    assert fold(late_failure, retried).status == fold(retried, late_failure).status == "failed"


def test_an_exact_time_tie_is_broken_by_event_id():
    a = event("payment.processing", provider_event_id="evt_a")
    b = event("payment.requires_action", provider_event_id="evt_b")
    assert fold(a, b) == fold(b, a)
    assert fold(a, b).status == "requires_action"  # "stripe:evt_b" > "stripe:evt_a"


def test_refunds_add_up():
    paid = event("payment.succeeded")
    first = event("refund.created", at=1, amount_cents=1_000)
    second = event("refund.created", at=2, amount_cents=1_500)
    for order in permutations([paid, first, second]):
        state = fold(*order)
        assert (state.amount, state.amount_refunded, state.status) == (5_000, 2_500, "succeeded")


def test_a_duplicate_refund_adds_nothing():
    refund = event("refund.created", at=1, amount_cents=1_000)
    paid = event("payment.succeeded")
    assert fold(refund, refund, refund).amount_refunded == 1_000
    assert fold(refund, paid, refund, paid) == fold(paid, refund)


def test_a_refund_is_one_entry_under_its_own_id_and_its_failure_ends_it():
    meta = {"refund_id": "rf_1"}
    created = event("refund.created", at=1, provider="square", amount_cents=700, metadata=meta)
    updated = event("refund.updated", at=2, provider="square", amount_cents=700, metadata=meta)
    failed = event("refund.failed", at=3, provider="square", amount_cents=700, metadata=meta)
    assert fold(created, updated).amount_refunded == fold(updated, created).amount_refunded == 700
    for order in permutations([created, updated, failed]):
        assert fold(*order).amount_refunded == 0


def test_a_refund_before_its_payment_still_counts_and_says_it_succeeded():
    refund = event("refund.created", at=5, amount_cents=1_000)
    state = fold(refund)
    assert (state.status, state.amount, state.amount_refunded) == ("succeeded", None, 1_000)
    assert fold(refund, event("payment.succeeded")).amount == 5_000


def test_a_dispute_counts_until_the_merchant_wins_it():
    opened = event("dispute.created", at=1, amount_cents=5_000, status="needs_response")
    withdrawn = event("dispute.funds_withdrawn", at=2, amount_cents=5_000, status="needs_response")
    assert fold(withdrawn, opened).amount_disputed == 5_000  # one dispute, not two
    lost = event("dispute.closed", at=3, amount_cents=5_000, status="lost")
    won = event("dispute.closed", at=3, amount_cents=5_000, status="won")
    assert fold(lost, opened).amount_disputed == 5_000
    assert fold(won, opened, withdrawn).amount_disputed == 0


def test_the_last_event_is_the_latest_by_the_providers_clock():
    early, late = event("payment.created", at=1), event("charge.updated", at=30)
    assert fold(late, early).last_event_id == fold(early, late).last_event_id == late.event_id
    assert fold(late, early).last_event_at == T0 + timedelta(seconds=30)


def test_a_naive_provider_time_is_read_as_utc():
    naive = event("payment.created", provider_created_at=datetime(2026, 3, 1, 12, 0, 5))
    assert fold(naive, event("payment.processing")).status == "processing"


def test_events_of_two_payments_do_not_join():
    with pytest.raises(ValueError, match="different payments"):
        fold(event("payment.created"), event("payment.created", payment_id="pi_2"))
    with pytest.raises(ValueError, match="no payment"):
        fold(event("payment.created", payment_id=None))
