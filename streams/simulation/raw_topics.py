"""The simulator's raw topics: faust topics that write what the gateway writes.

A raw-topic record carries the contract's Kafka headers (``contracts.providers.RAW_HEADERS``:
provider, event_type, received_at, request_id) and the provider event id as its key.
faust's ``send`` command has no option for headers, so ``RawWebhookTopic.send`` adds them,
reading the event type (and, when no ``-k`` key is given, the key) from the value as the
gateway does. ``faust -A streams.simulator send webhooks.stripe.charge '<json>'`` therefore
produces a record the normalizer accepts, and so does the simulator's Kafka target, which
sends through these topics and faust's producer.
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import faust
import orjson

from contracts.providers import RAW_HEADERS, RAW_TOPICS, Provider, adyen_key, raw_headers

# Stands in for the gateway's request id: says where a record came from when it is reviewed.
REQUEST_ID_PREFIX = "simulator-"


def provider_of(topic: str, renamed: dict[str, str] | None = None) -> str | None:
    """The provider whose raw topic this is (``renamed``: this deployment's name -> contract's)."""
    topic = (renamed or {}).get(topic, topic)
    return next((p.value for p, names in RAW_TOPICS.items() if topic in names), None)


def read_event(provider: str, value: bytes) -> tuple[str, str | None]:
    """(event type, key) of a raw value, as the gateway reads them; key None when not given.

    Braintree's key needs the subject's id and time from inside the signed XML, so for a
    Braintree value the key must come with it (``-k``).
    """
    if provider == Provider.BRAINTREE:
        payload = parse_qs(value.decode()).get("bt_payload", [""])[0]
        match = re.search(rb"<kind>([^<]*)</kind>", base64.b64decode(payload))
        return (match.group(1).decode() if match else ""), None
    doc = orjson.loads(value)
    if provider == Provider.ADYEN:
        return doc["eventCode"], adyen_key(doc["pspReference"], doc["eventCode"], doc["success"])
    if provider == Provider.SQUARE:
        return doc["type"], doc["event_id"]
    return doc["type"], doc["id"]  # Stripe


class RawWebhookTopic(faust.Topic):
    """A raw provider topic: bytes on the wire, the contract's headers added on send."""

    renamed: dict[str, str] = {}  # set by the app: this deployment's topic name -> contract's

    async def send(self, *, key: Any = None, value: Any = None, headers: Any = None,
                   **kwargs: Any) -> Any:
        raw = value.encode() if isinstance(value, str) else value
        provider = provider_of(self.get_topic_name(), self.renamed)
        given = dict(headers or [])
        if provider is not None and raw and not all(name in given for name in RAW_HEADERS):
            event_type, derived_key = read_event(provider, raw)
            key = key if key is not None else derived_key
            contract = raw_headers(provider, event_type, _now(), REQUEST_ID_PREFIX +
                                   uuid.uuid4().hex)
            headers = [(n, v) for n, v in contract if n not in given] + list(given.items())
        if isinstance(key, str):
            key = key.encode()
        return await super().send(key=key, value=raw, headers=headers, **kwargs)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
