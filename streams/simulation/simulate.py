"""The simulate command's work: generate, sign and send provider webhooks, and sum up.

Sends to the gateway (an HTTP target, signed as each provider signs) or straight onto the raw
topics (``kafka``, keyed, valued and headed as the gateway writes them, through faust's
producer and the simulator app's raw topics). ``streams.simulator`` is the
faust app and the command's options; everything it does is here.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson

from streams.settings import StreamsSettings
from streams.simulation.generator import (
    GeneratedEvent,
    SimulatorMix,
    generate_events,
    raw_topic_kind,
)
from streams.simulation.provider_generator import (
    PROVIDERS,
    ProviderEvent,
    generate_provider_events,
)
from streams.simulation.signing import ProviderKeys, SigningSettings, sign_stripe

# raw topic name -> the simulator app's faust topic (streams/simulation/raw_topics.py)
Topics = dict[str, Any]
# the kind of raw topic an event goes to -> the settings field that names it
TOPIC_SETTINGS = {"payment_intent": "TOPIC_PAYMENT_INTENT", "charge": "TOPIC_CHARGE",
                  "refund": "TOPIC_REFUND", "adyen": "TOPIC_ADYEN", "braintree": "TOPIC_BRAINTREE",
                  "square_payment": "TOPIC_SQUARE_PAYMENT", "square_refund": "TOPIC_SQUARE_REFUND"}


def kafka_topic(settings: StreamsSettings, kind: str) -> str:
    return getattr(settings, TOPIC_SETTINGS[kind])


async def _send_raw(topics: Topics | None, name: str, key: str, value: bytes) -> None:
    """Through faust's producer and the app's raw topic, which adds the contract's headers;
    waits for the broker's ack."""
    if topics is None:
        raise SystemExit("the kafka target sends through the simulator app's topics")
    await (await topics[name].send(key=key, value=value))


async def pace(events: list[GeneratedEvent], rate: float, send) -> None:
    """Call send(event) at `rate` per second, keeping up to rate * 2 calls in flight."""
    started = time.monotonic()
    in_flight: set[asyncio.Task] = set()
    limit = max(1, int(rate * 2))
    for i, event in enumerate(events):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        while len(in_flight) >= limit:
            _, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        in_flight.add(asyncio.create_task(send(event)))
    if in_flight:
        await asyncio.wait(in_flight)


async def run_simulation(settings: StreamsSettings, *, rate: float, duration: float,
                         seed: int, target: str, secret: str | None,
                         mix: SimulatorMix, topics: Topics | None = None) -> dict[str, Any]:
    """Send rate * duration events to the target and count what happened to them."""
    events = list(generate_events(int(rate * duration), seed=seed, mix=mix))
    tally: Counter[str] = Counter(e.kind for e in events)
    outcome: Counter[str] = Counter()
    if target == "kafka":

        async def send(event: GeneratedEvent) -> None:
            await _send_raw(topics, kafka_topic(settings, raw_topic_kind(event.stripe_type)),
                            event.key, event.body)
            outcome["accepted"] += 1

        await pace(events, rate, send)
    else:
        if not secret:
            raise SystemExit("--secret (or STRIPE_WEBHOOK_SECRET) is required for an HTTP target")
        async with httpx.AsyncClient(timeout=10) as client:

            async def send(event: GeneratedEvent) -> None:
                header = sign_stripe(event.body, secret, int(time.time()))
                try:
                    resp = await client.post(target, content=event.body, headers={
                        "Stripe-Signature": header, "Content-Type": "application/json"})
                    outcome["accepted" if resp.is_success else "rejected"] += 1
                except httpx.HTTPError:
                    outcome["errors"] += 1

            await pace(events, rate, send)
    return {"sent": len(events), "accepted": outcome["accepted"],
            "rejected": outcome["rejected"], "errors": outcome["errors"],
            "valid": tally["valid"], "duplicates": tally["duplicate"],
            "invalid": tally["invalid"], "target": target, "seed": seed}


async def run_provider_simulation(settings: StreamsSettings, *, provider: str, rate: float,
                                  duration: float, seed: int, target: str, keys: ProviderKeys,
                                  mix: SimulatorMix, topics: Topics | None = None
                                  ) -> dict[str, Any]:
    """The Adyen, Braintree or Square counterpart of run_simulation."""
    events = list(generate_provider_events(provider, int(rate * duration), seed=seed, mix=mix,
                                           keys=keys))
    tally: Counter[str] = Counter(e.kind for e in events)
    outcome: Counter[str] = Counter()
    if target == "kafka":

        async def send(event: ProviderEvent) -> None:
            await _send_raw(topics, kafka_topic(settings, event.topic_kind), event.key,
                            event.value)
            outcome["accepted"] += 1

        await pace(events, rate, send)
    else:
        url = provider_url(target, provider)
        async with httpx.AsyncClient(timeout=10) as client:

            async def send(event: ProviderEvent) -> None:
                try:
                    resp = await client.post(url, content=event.http_body,
                                             headers=event.http_headers)
                    outcome["accepted" if resp.is_success else "rejected"] += 1
                except httpx.HTTPError:
                    outcome["errors"] += 1

            await pace(events, rate, send)
    return {"sent": len(events), "accepted": outcome["accepted"],
            "rejected": outcome["rejected"], "errors": outcome["errors"],
            "valid": tally["valid"], "duplicates": tally["duplicate"],
            "invalid": tally["invalid"], "target": target, "seed": seed,
            "provider": provider}


def provider_url(target: str, provider: str) -> str:
    """The webhook URL of one provider: ``{provider}`` filled in, or the last segment swapped."""
    if "{provider}" in target:
        return target.format(provider=provider)
    base, _, last = target.rstrip("/").rpartition("/")
    if base.endswith("/webhooks"):
        return f"{base}/{provider}"
    return f"{target.rstrip('/')}/webhooks/{provider}"


def provider_keys(signing: SigningSettings, *, for_gateway: bool) -> ProviderKeys:
    """The gateway's keys from the environment; test keys suffice only for --target kafka."""
    values = {"adyen_hmac_key": signing.ADYEN_HMAC_KEY,
              "adyen_username": signing.ADYEN_BASIC_AUTH_USERNAME,
              "adyen_password": signing.ADYEN_BASIC_AUTH_PASSWORD,
              "braintree_public_key": signing.BRAINTREE_PUBLIC_KEY,
              "braintree_private_key": signing.BRAINTREE_PRIVATE_KEY,
              "square_signature_key": signing.SQUARE_SIGNATURE_KEY,
              "square_notification_url": signing.SQUARE_NOTIFICATION_URL}
    missing = [name for name, value in signing.model_dump().items() if not value]
    if for_gateway and missing:
        raise SystemExit(f"an HTTP target needs the gateway's provider settings; missing: "
                         f"{', '.join(missing)}")
    return ProviderKeys(**{name: value for name, value in values.items() if value})


async def run_providers(settings: StreamsSettings, signing: SigningSettings, *, provider: str,
                        rate: float, duration: float, seed: int, target: str,
                        secret: str | None, mix: SimulatorMix,
                        topics: Topics | None = None) -> dict[str, Any]:
    """Stripe alone (the default, unchanged), one other provider, or all four at once."""
    if provider == "stripe":
        return await run_simulation(
            settings, rate=rate, duration=duration, seed=seed, secret=secret, mix=mix,
            target=target if target == "kafka" else provider_url(target, "stripe"),
            topics=topics)
    names = ("stripe", *PROVIDERS) if provider == "all" else (provider,)
    keys = provider_keys(signing, for_gateway=target != "kafka")
    runs = [run_simulation(settings, rate=rate, duration=duration, seed=seed,
                           target=target if target == "kafka" else provider_url(target, name),
                           secret=secret, mix=mix, topics=topics) if name == "stripe" else
            run_provider_simulation(settings, provider=name, rate=rate, duration=duration,
                                    seed=seed, target=target, keys=keys, mix=mix, topics=topics)
            for name in names]
    summaries = dict(zip(names, await asyncio.gather(*runs), strict=True))
    if len(names) == 1:
        return summaries[provider]
    totals = {k: sum(s[k] for s in summaries.values()) for k in (
        "sent", "accepted", "rejected", "errors", "valid", "duplicates", "invalid")}
    return {**totals, "target": target, "seed": seed, "provider": "all",
            "providers": summaries}


def write_report(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


async def simulate_and_report(settings: StreamsSettings, signing: SigningSettings, *,
                              provider: str, rate: float, duration: float, seed: int,
                              target: str, secret: str | None, mix: SimulatorMix,
                              report: str | None, topics: Topics | None = None) -> None:
    """The simulate command: run, print the summary, and save it when asked."""
    if provider not in ("stripe", "all", *PROVIDERS):
        raise SystemExit(f"--provider must be stripe, {', '.join(PROVIDERS)} or all")
    summary = await run_providers(settings, signing, provider=provider, rate=rate,
                                  duration=duration, seed=seed, target=target, secret=secret,
                                  mix=mix, topics=topics)
    text = orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode()
    print(text)
    if report:
        write_report(Path(report), text)
