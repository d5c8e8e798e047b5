"""The orchestration benchmark's load: valid Stripe payments, as the normalizer would emit them.

The benchmark's own, not the tests' builders (``tests/builders.py``): product code never
imports ``tests``. The values are the ones the benchmark measured with before the builders
moved, so its figures stay comparable.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from contracts import PaymentEvent, make_event_id

_AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
_SUCCEEDED = {"event_type": "payment.succeeded", "status": "succeeded"}
_DECLINED = {"event_type": "payment.failed", "status": "failed",
             "failure_code": "insufficient_funds", "failure_message": "Insufficient funds."}


def make_events(count: int, tag: str) -> list[PaymentEvent]:
    """Four in five payments succeed; customers recur, so churn reads real history."""
    events = []
    for i in range(count):
        provider_event_id = f"evt_bench_{tag}_{i}"
        events.append(PaymentEvent(
            event_id=make_event_id("stripe", provider_event_id), provider="stripe",
            provider_event_id=provider_event_id, amount_cents=4_200, currency="USD",
            provider_created_at=_AT, processed_at=_AT, payment_id=f"pi_{uuid.uuid4().hex[:16]}",
            merchant_id="acct_test", customer_id=f"cus_bench_{tag}_{i % 40}",
            payment_method_type="card", card_brand="visa", card_last_four="4242",
            metadata={"order_id": "o-1"}, **(_DECLINED if i % 5 == 4 else _SUCCEEDED)))
    return events
