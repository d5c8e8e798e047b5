"""Builders of valid events and dead letters, shared by tests and the benchmark."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts import DeadLetter, PaymentEvent, ValidationIssue, make_event_id

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
        "metadata": {"order": "o-1"},
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
