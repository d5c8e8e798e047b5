"""Stripe event types route to the raw topics named in contracts.topics."""

from __future__ import annotations

import orjson
import pytest
from gateway_support import FIXTURES

from contracts.events import STRIPE_EVENT_TYPES
from contracts.topics import STRIPE_CHARGE, STRIPE_PAYMENT_INTENT, STRIPE_REFUND
from gateway.providers.stripe import parse_stripe_event, route_stripe_event


def expected_topic(event_type: str) -> str:
    if event_type.startswith("payment_intent."):
        return STRIPE_PAYMENT_INTENT
    if event_type.startswith(("refund.", "charge.refund.")):
        return STRIPE_REFUND
    return STRIPE_CHARGE


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_routes_to_its_topic(path):
    event = parse_stripe_event(path.read_bytes())
    assert event.id == orjson.loads(path.read_bytes())["id"]
    assert route_stripe_event(event.type) == expected_topic(path.stem)


@pytest.mark.parametrize(
    ("event_type", "topic"),
    [
        ("payment_intent.succeeded", STRIPE_PAYMENT_INTENT),
        ("charge.succeeded", STRIPE_CHARGE),
        ("charge.dispute.closed", STRIPE_CHARGE),
        ("charge.refund.updated", STRIPE_REFUND),
        ("charge.refunded", STRIPE_CHARGE),
        ("refund.created", STRIPE_REFUND),
        ("customer.created", None),
        ("charge", None),
        ("payment_intent", None),
    ],
)
def test_routing_table(event_type, topic):
    assert route_stripe_event(event_type) == topic


def test_every_contract_event_type_has_a_route():
    for event_type in STRIPE_EVENT_TYPES:
        assert route_stripe_event(event_type) == expected_topic(event_type)


def test_legacy_dispute_payloads_without_object_id_are_accepted():
    for name in ("charge.dispute.closed", "charge.dispute.updated"):
        path = next(p for p in FIXTURES if p.stem == name)
        event = parse_stripe_event(path.read_bytes())
        assert event.data.object.id is None
        assert event.data.object.object == "dispute"
