"""What stripe-mock cannot show, on the real Stripe fixtures: a listed event becomes the raw
record the gateway would have written for its webhook, byte for byte in body."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest
import stripe

from contracts.providers import ORIGIN_HEADER, raw_headers, stripe_raw_topic
from gateway.providers.stripe import StripeProvider
from orchestration.reconciliation.compare import raw_record, reconciliation_request_id
from orchestration.reconciliation.stripe import event_from_stripe, render_stripe_json

FIXTURES_DIR = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "stripe"
FIXTURES = sorted(FIXTURES_DIR.glob("*.json"))
# Edited by hand in stripe-ruby-mock after Stripe rendered them (a space before a comma,
# a list on one line): no renderer gives these bytes, Stripe's included.
HAND_EDITED = {"charge.updated", "payment_intent.processing"}
STRIPE_RENDERED = [p for p in FIXTURES if p.stem not in HAND_EDITED]
SECRET = "whsec_reconciliation_unit"


def webhook_body(path: Path) -> bytes:
    # Some fixture files end with a newline, as files do; a webhook body does not.
    return path.read_bytes().removesuffix(b"\n")


def listed(body: bytes) -> stripe.Event:
    """The event as the SDK hands it out of a list page (the response's key order kept)."""
    return stripe.Event.construct_from(json.loads(body), "sk_test_unit")


def test_the_fixtures_are_there():
    assert len(FIXTURES) == 18 and len(STRIPE_RENDERED) == 16


@pytest.mark.parametrize("path", STRIPE_RENDERED, ids=lambda p: p.stem)
def test_rendering_gives_back_the_webhook_body_byte_for_byte(path):
    body = webhook_body(path)
    assert render_stripe_json(json.loads(body)) == body


@pytest.mark.parametrize("path", sorted(FIXTURES_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_a_listed_event_is_the_record_the_gateway_writes_for_its_webhook(path):
    body = webhook_body(path)
    event = event_from_stripe(listed(body))

    # The gateway, verifying the same body as a signed webhook, writes this:
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body.decode()}", SECRET)
    (webhook,) = StripeProvider((SECRET,), 300).verify(
        body, {"stripe-signature": f"t={timestamp},v1={signature}"})
    record = raw_record(event, "2026-12-01T00:00:00.000000Z", reconciliation_request_id("r1"))

    assert (event.event_id, event.event_type) == (webhook.event_id, webhook.event_type)
    assert record.topic == webhook.topic == stripe_raw_topic(webhook.event_type)
    assert record.key == webhook.event_id.encode()
    assert json.loads(record.value) == json.loads(webhook.value)
    if path.stem not in HAND_EDITED:
        assert record.value == webhook.value  # byte for byte
    assert record.headers == [
        *raw_headers("stripe", webhook.event_type, "2026-12-01T00:00:00.000000Z",
                     "reconciliation-r1"),
        (ORIGIN_HEADER, b"reconciliation")]


def test_created_is_the_events_own_clock():
    body = webhook_body(FIXTURES_DIR / "charge.succeeded.json")
    event = event_from_stripe(listed(body))
    assert event.created.timestamp() == json.loads(body)["created"]
    assert event.created.tzinfo is not None


def test_a_listed_object_without_an_id_or_type_is_refused():
    data = json.loads(webhook_body(FIXTURES_DIR / "charge.succeeded.json"))
    for name in ("id", "type", "created"):
        broken = copy.deepcopy(data)
        del broken[name]
        with pytest.raises(ValueError, match=name):
            event_from_stripe(broken)


def test_rendering_keeps_non_ascii_and_empty_containers_as_stripe_does():
    assert render_stripe_json({"a": {}, "b": [], "c": "é"}) == (
        '{\n  "a": {\n  },\n  "b": [\n\n  ],\n  "c": "é"\n}'.encode())
