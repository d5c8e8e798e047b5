"""The simulator's generator and signing: deterministic, realistic, verifiable by Stripe's SDK."""

from __future__ import annotations

import collections
from datetime import UTC, datetime

import stripe

from streams.providers.stripe import map_stripe_bytes
from streams.rules import InvalidEventError
from streams.simulation.generator import SimulatorMix, generate_events, raw_topic_kind
from streams.simulation.signing import sign_stripe

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_same_seed_same_events():
    assert list(generate_events(50, seed=3)) == list(generate_events(50, seed=3))
    assert list(generate_events(50, seed=3)) != list(generate_events(50, seed=4))


def test_each_kind_maps_the_way_it_claims():
    outcomes = collections.Counter()
    for event in generate_events(600, seed=11, mix=SimulatorMix(0.2, 0.1, 0.1)):
        try:
            map_stripe_bytes(event.body, NOW)
            outcomes[(event.kind, "ok")] += 1
        except InvalidEventError:
            outcomes[(event.kind, "invalid")] += 1
    assert set(outcomes) == {("valid", "ok"), ("duplicate", "ok"), ("invalid", "invalid")}


def test_duplicates_repeat_an_earlier_body_exactly():
    events = list(generate_events(300, seed=5, mix=SimulatorMix(duplicate_ratio=0.2)))
    bodies = {e.body for e in events if e.kind == "valid"}
    dups = [e for e in events if e.kind == "duplicate"]
    assert dups and all(d.body in bodies for d in dups)


def test_raw_topic_routing():
    assert raw_topic_kind("payment_intent.succeeded") == "payment_intent"
    assert raw_topic_kind("charge.dispute.created") == "charge"
    assert raw_topic_kind("charge.refund.updated") == "refund"
    assert raw_topic_kind("charge.failed") == "charge"


def test_signature_verifies_with_the_stripe_sdk():
    body = next(generate_events(1, seed=1)).body
    header = sign_stripe(body, "whsec_test", 1_700_000_000)
    assert stripe.WebhookSignature.verify_header(body.decode(), header, "whsec_test",
                                                 tolerance=None)
