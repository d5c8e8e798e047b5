"""The one place tests build events: unified events and dead letters, and raw Stripe webhooks.

``make_payment_event(**overrides)``, ``make_failed_event`` and ``make_dead_letter`` give each
event a fresh unique id unless one is given, so a test against real servers never meets
another's rows. They are ``orchestration.testing``'s (the orchestration bench uses them too)
until phase 2 of issue 20 moves them here; import them from this module.
``make_stripe_webhook`` is a real Stripe CLI fixture (``shared/fixtures/stripe``) as a dict.
"""

from __future__ import annotations

import copy
import functools
import uuid
from pathlib import Path
from typing import Any

import orjson

from orchestration.testing import make_dead_letter, make_failed_event, make_payment_event

STRIPE_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "stripe"

__all__ = ["STRIPE_FIXTURES", "make_dead_letter", "make_failed_event", "make_payment_event",
           "make_stripe_webhook"]


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
