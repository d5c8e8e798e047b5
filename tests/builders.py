"""The one place tests build events: unified events and dead letters, and raw Stripe webhooks.

``make_payment_event(**overrides)``, ``make_failed_event`` and ``make_dead_letter`` give each
event a fresh unique id unless one is given, so a test against real servers never meets
another's rows. ``make_stripe_webhook`` is a real Stripe CLI fixture (``shared/fixtures/stripe``)
as a dict. Product code never imports this module (the benchmark builds its own load in
``bench/events.py``).
"""

from __future__ import annotations

import copy
import functools
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from contracts import DeadLetter, PaymentEvent, ValidationIssue, make_event_id

STRIPE_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "stripe"
_BASE_TIME = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def make_payment_event(**overrides: Any) -> PaymentEvent:
    """A valid payment.succeeded event with a fresh unique id, changed by overrides."""
    provider_event_id = overrides.pop("provider_event_id", f"evt_test_{uuid.uuid4().hex}")
    provider = overrides.get("provider", "stripe")
    values: dict[str, Any] = {
        "event_id": make_event_id(provider, provider_event_id),
        "provider": provider,
        "provider_event_id": provider_event_id,
        "event_type": "payment.succeeded",
        "amount_cents": 4_200,
        "currency": "USD",
        "status": "succeeded",
        "provider_created_at": _BASE_TIME,
        "processed_at": _BASE_TIME,
        "payment_id": f"pi_{uuid.uuid4().hex[:16]}",
        "merchant_id": "acct_test",
        "customer_id": None,
        "payment_method_type": "card",
        "card_brand": "visa",
        "card_last_four": "4242",
        "metadata": {"order_id": "o-1"},
    }
    values.update(overrides)
    return PaymentEvent(**values)


def make_failed_event(**overrides: Any) -> PaymentEvent:
    values = {"event_type": "payment.failed", "status": "failed",
              "failure_code": "insufficient_funds", "failure_message": "Insufficient funds."}
    return make_payment_event(**{**values, **overrides})


def make_dead_letter(**overrides: Any) -> DeadLetter:
    """A dead letter from the normalizer for a payload it could not read."""
    offset = overrides.pop("source_offset", uuid.uuid4().int % 10**9)
    values: dict[str, Any] = {
        "event_id": f"dlq:payments.test:0:{offset}",
        "source_topic": "webhooks.stripe.payment_intent",
        "source_partition": 0,
        "source_offset": offset,
        "payload": '{"id": "evt_broken", "amount": "forty-two"}',
        "payload_encoding": "utf-8",
        "errors": [ValidationIssue("amount.not_integer", "amount is not an integer", "amount")],
        "failed_at": _BASE_TIME,
        "provider": "stripe",
    }
    values.update(overrides)
    return DeadLetter(**values)


def make_bound_letter(**overrides: Any) -> tuple[DeadLetter, PaymentEvent]:
    """A dead letter that named its event id, and a corrected event that keeps that id."""
    event = make_payment_event()
    letter = make_dead_letter(**{"event_id": event.event_id,
                                 "provider_event_id": event.provider_event_id, **overrides})
    return letter, event


def event_json(event: PaymentEvent) -> dict[str, Any]:
    """The event as the JSON object a reviewer writes (RFC 3339 timestamps)."""
    data = asdict(event)
    for key in ("provider_created_at", "processed_at"):
        data[key] = data[key].isoformat()
    return data


@functools.cache
def _stripe_fixture(name: str) -> dict[str, Any]:
    return orjson.loads((STRIPE_FIXTURES / f"{name}.json").read_bytes())


def make_stripe_webhook(name: str = "payment_intent.succeeded", event_id: str | None = None,
                        **object_overrides: Any) -> dict[str, Any]:
    """A Stripe fixture with the given (else a fresh) event id and data.object fields changed."""
    event = copy.deepcopy(_stripe_fixture(name))
    event["id"] = event_id or f"evt_{uuid.uuid4().hex}"
    event["data"]["object"].update(object_overrides)
    return event
