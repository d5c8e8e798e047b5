"""Payment lifecycles from the real fixtures of all four providers, through the real mappers.

Every fixture in ``shared/fixtures/stripe`` and ``tests/fixtures/providers/*`` is mapped by
``streams.providers`` exactly as the normalizer maps it, then grouped by (provider,
payment_id): one lifecycle per payment. Two adjustments, both because fixtures are canned:
the Stripe fixtures all carry the same ``evt_000…`` id, so each is given its own id before it
is mapped (otherwise they would be one event); and each provider also gets one lifecycle of
*all* its fixture events under one payment id, the harshest order test its events allow.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import orjson

from contracts import PaymentEvent
from gateway.providers.braintree import BraintreeProvider
from streams.providers.adyen import map_adyen_record
from streams.providers.braintree import map_braintree_record
from streams.providers.square import map_square_record
from streams.providers.stripe import map_stripe_bytes
from streams.simulation.signing import ProviderKeys, adyen_record
from tests.builders import STRIPE_FIXTURES

PROVIDER_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "providers"
PROCESSED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def stripe_events() -> list[PaymentEvent]:
    events = []
    for path in sorted(STRIPE_FIXTURES.glob("*.json")):
        body = orjson.loads(path.read_bytes())
        body["id"] = f"evt_{path.stem.replace('.', '_')}"
        events.append(map_stripe_bytes(orjson.dumps(body), PROCESSED_AT))
    return events


def adyen_events() -> list[PaymentEvent]:
    events = []
    for path in sorted((PROVIDER_FIXTURES / "adyen").glob("*.json")):
        for item in orjson.loads(path.read_bytes())["notificationItems"]:
            key, value = adyen_record(item["NotificationRequestItem"])
            events.append(map_adyen_record(key.encode(), value, PROCESSED_AT))
    return events


def braintree_events() -> list[PaymentEvent]:
    keys = ProviderKeys()
    gateway = BraintreeProvider("pipeline_merchant", keys.braintree_public_key,
                                keys.braintree_private_key)
    events = []
    for path in sorted((PROVIDER_FIXTURES / "braintree").glob("*.form")):
        form = path.read_bytes()
        [verified] = gateway.verify(form, {})  # the key the real gateway derives
        events.append(map_braintree_record(verified.event_id.encode(), form, PROCESSED_AT))
    return events


def square_events() -> list[PaymentEvent]:
    events = []
    for path in sorted((PROVIDER_FIXTURES / "square").glob("*.json")):
        body = orjson.loads(path.read_bytes())
        events.append(map_square_record(body["event_id"].encode(), path.read_bytes(),
                                        PROCESSED_AT))
    return events


@functools.cache
def fixture_events() -> dict[str, tuple[PaymentEvent, ...]]:
    """Provider -> every fixture event of it, mapped."""
    return {"stripe": tuple(stripe_events()), "adyen": tuple(adyen_events()),
            "braintree": tuple(braintree_events()), "square": tuple(square_events())}


@functools.cache
def lifecycles() -> dict[str, tuple[PaymentEvent, ...]]:
    """A name -> the events of one payment, in fixture order."""
    found: dict[str, list[PaymentEvent]] = defaultdict(list)
    for provider, events in fixture_events().items():
        for event in events:
            found[f"{provider}:{event.payment_id}"].append(event)
        found[f"{provider}:all-fixtures"] = [
            dataclasses.replace(e, payment_id=f"{provider}_all_fixtures") for e in events]
    return {name: tuple(events) for name, events in sorted(found.items())}
