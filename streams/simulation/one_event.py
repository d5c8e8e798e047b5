"""``simulator send``: one event of a given type, to the gateway or onto its raw topic.

The event comes from the same generators as ``simulator generate`` (the first one of the
type for a seed), so it is shaped and signed exactly as a stream's events are.
``--invalid-signature`` signs it with keys the gateway does not hold, so the gateway must
refuse it; on the Kafka target there is no signature to check, so it is refused there.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from typing import Any

import httpx
import orjson

from streams.settings import StreamsSettings
from streams.simulation.generator import SimulatorMix, generate_events, raw_topic_kind
from streams.simulation.provider_generator import PROVIDERS, generate_provider_events
from streams.simulation.signing import ProviderKeys, SigningSettings, sign_stripe
from streams.simulation.simulate import kafka_topic, provider_keys, provider_url

# Events searched for the type asked for; every type the generators make shows up well before.
SEARCH = 5000
# Half failures, no duplicates or invalid bodies: both outcomes of every kind are found.
ONE_MIX = SimulatorMix(failure_ratio=0.5, duplicate_ratio=0.0, invalid_ratio=0.0)
WRONG_KEYS = ProviderKeys(adyen_hmac_key="00" * 32, adyen_password="not-the-password",
                          braintree_private_key="not-the-key", square_signature_key="not-the-key")


def _first(events: Iterable[Any], event_type: str, type_of) -> Any:
    seen: set[str] = set()
    for event in events:
        if type_of(event) == event_type:
            return event
        seen.add(type_of(event))
    raise SystemExit(f"--type {event_type!r} is not one this provider's generator makes; "
                     f"it makes: {', '.join(sorted(seen))}")


def pick_event(provider: str, event_type: str, seed: int, keys: ProviderKeys) -> dict[str, Any]:
    """The kind of raw topic, key, value, and HTTP body and headers of one event (unsigned
    headers for Stripe, which is signed when sent)."""
    if provider == "stripe":
        event = _first(generate_events(SEARCH, seed=seed, mix=ONE_MIX), event_type,
                       lambda e: e.stripe_type)
        return {"topic_kind": raw_topic_kind(event.stripe_type), "key": event.key,
                "value": event.body, "http_body": event.body, "http_headers": {}}
    if provider not in PROVIDERS:
        raise SystemExit(f"--provider must be stripe or one of {', '.join(PROVIDERS)}")
    event = _first(generate_provider_events(provider, SEARCH, seed=seed, mix=ONE_MIX, keys=keys),
                   event_type, lambda e: e.event_type)
    return {"topic_kind": event.topic_kind, "key": event.key, "value": event.value,
            "http_body": event.http_body, "http_headers": dict(event.http_headers)}


async def send_one(settings: StreamsSettings, signing: SigningSettings, *, provider: str,
                   event_type: str, invalid_signature: bool, target: str, secret: str | None,
                   seed: int | None, topics: dict[str, Any]) -> dict[str, Any]:
    """Send the event; prints and returns what happened."""
    seed = random.randrange(1 << 30) if seed is None else seed
    to_kafka = target == "kafka"
    if to_kafka and invalid_signature:
        raise SystemExit("--invalid-signature needs the gateway: Kafka checks no signature")
    keys = WRONG_KEYS if invalid_signature else provider_keys(signing, for_gateway=not to_kafka
                                                              and provider != "stripe")
    event = pick_event(provider, event_type, seed, keys)
    summary: dict[str, Any] = {"provider": provider, "event_type": event_type,
                               "key": event["key"], "target": target, "seed": seed}
    if to_kafka:
        name = kafka_topic(settings, event["topic_kind"])
        metadata = await (await topics[name].send(key=event["key"], value=event["value"]))
        summary.update(topic=name, partition=metadata.partition, offset=metadata.offset)
    else:
        headers = event["http_headers"]
        if provider == "stripe":
            if not secret:
                raise SystemExit("--secret (or STRIPE_WEBHOOK_SECRET) is required for the gateway")
            used = secret + "-wrong" if invalid_signature else secret
            headers = {"Stripe-Signature": sign_stripe(event["http_body"], used, int(time.time())),
                       "Content-Type": "application/json"}
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(provider_url(target, provider),
                                         content=event["http_body"], headers=headers)
        summary.update(status=response.status_code)
    print(orjson.dumps(summary).decode())
    return summary
