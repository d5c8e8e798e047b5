"""Every field of every provider fixture, as the data map names it, and its sensitive values.

``fixture_records()`` gives each fixture as its raw topic holds it (Stripe's and Square's body,
each Adyen item alone, Braintree's form) with its fields: (dotted path, value) in the data
map's notation (``contracts/data_map.py``). ``sensitive_values(record)`` are the values the
data map masks in every copy and the unified event does not keep: card data, personal data and
credentials, the needles the data-map tests search every store for. Values too short to
search for without matching unrelated text (a country code, a month, "94103") are left out.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import parse_qsl

import orjson
from braintree.util.xml_util import XmlUtil

from contracts import PaymentEvent
from contracts.data_map import Category, Treatment
from contracts.data_map_index import classify
from contracts.privacy import protect_event
from gateway.providers.braintree import BraintreeProvider
from streams.providers import PROVIDER_STREAMS
from streams.rules import InvalidEventError
from streams.simulation.signing import ProviderKeys, adyen_record
from tests.builders import STRIPE_FIXTURES
from tests.lifecycles import PROCESSED_AT, PROVIDER_FIXTURES

SENSITIVE = frozenset({Category.CARD_DATA, Category.PERSONAL, Category.CREDENTIAL})
_MAPPERS = {streams.provider: streams.mapper for streams in PROVIDER_STREAMS}


@dataclass(frozen=True, slots=True)
class FixtureRecord:
    """One fixture as its raw topic holds it: (key, value), and its fields."""

    provider: str
    name: str
    key: bytes
    value: bytes
    fields: tuple[tuple[str, Any], ...]


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf value) of a parsed document; list items are ``name[]``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, f"{path}[]")
    else:
        yield path, value


def braintree_fields(form: bytes) -> Iterator[tuple[str, Any]]:
    """The form's fields, and bt_payload's XML as the SDK reads it, under ``notification.``."""
    for name, value in parse_qsl(form.decode("ascii")):
        if name == "bt_payload":
            yield from walk(XmlUtil.dict_from_xml(base64.b64decode(value).decode()))
        else:
            yield name, value


def record_of(provider: str, name: str, key: bytes, value: bytes) -> FixtureRecord:
    """A raw record of the provider (a fixture, or one renamed or changed from it)."""
    found = braintree_fields(value) if provider == "braintree" else walk(orjson.loads(value))
    return FixtureRecord(provider, name, key, value, tuple(found))


def fixture_records() -> list[FixtureRecord]:
    records = []
    for path in sorted(STRIPE_FIXTURES.glob("*.json")):
        body = orjson.loads(path.read_bytes())
        body["id"] = f"evt_{path.stem.replace('.', '_')}"  # the fixtures share one id
        records.append(record_of("stripe", path.name, body["id"].encode(), orjson.dumps(body)))
    for path in sorted((PROVIDER_FIXTURES / "adyen").glob("*.json")):
        for n, wrapped in enumerate(orjson.loads(path.read_bytes())["notificationItems"]):
            key, value = adyen_record(wrapped["NotificationRequestItem"])
            records.append(record_of("adyen", f"{path.name}[{n}]", key.encode(), value))
    for path in sorted((PROVIDER_FIXTURES / "braintree").glob("*.form")):
        form = path.read_bytes()
        records.append(record_of("braintree", path.name, braintree_key(form), form))
    for path in sorted((PROVIDER_FIXTURES / "square").glob("*.json")):
        body = orjson.loads(path.read_bytes())
        records.append(record_of("square", path.name, body["event_id"].encode(),
                                 path.read_bytes()))
    return records


def mapped_event(record: FixtureRecord) -> PaymentEvent:
    """The fixture's unified event, as the normalizer publishes it."""
    return protect_event(_MAPPERS[record.provider](record.key, record.value, PROCESSED_AT))


def event_texts(event: PaymentEvent) -> set[str]:
    """Every text the event holds, metadata keys and values included."""
    texts = {str(getattr(event, f.name)) for f in fields(event) if f.name != "metadata"}
    return texts | set(event.metadata) | set(event.metadata.values())


def sensitive_values(record: FixtureRecord, kept: set[str] | None = None) -> set[str]:
    """The record's values the data map masks in copies, less those the event keeps (none,
    for a record the normalizer dead-letters)."""
    if kept is None:
        try:
            kept = event_texts(mapped_event(record))
        except InvalidEventError:
            kept = set()
    found = set()
    for path, value in record.fields:
        rule = classify(record.provider, path)
        if (rule is None or rule.category not in SENSITIVE or rule.copies is not Treatment.MASKED
                or value is None or isinstance(value, bool)):
            continue
        text = str(value)
        if distinctive(text) and text not in kept:
            found.add(text)
    return found


def found_in(needle: str, text: str) -> bool:
    """Whether the needle stands in the text as a whole value: not inside a longer id (the
    fingerprint ``00000000000000`` is not in ``ch_00000000000000``) and, for digits, not
    the fraction of a timestamp (BIN ``555555`` is not in ``12:00:01.555555``)."""
    before = r"[A-Za-z0-9_.]" if needle.isdigit() else r"[A-Za-z0-9_]"
    return re.search(rf"(?<!{before}){re.escape(needle)}(?![A-Za-z0-9_])", text) is not None


def distinctive(text: str) -> bool:
    """Long enough to be searched for: 5 characters, and 6 digits for a bare number."""
    return len(text) >= 5 and not (text.isdigit() and len(text) < 6)


def braintree_key(form: bytes, keys: ProviderKeys | None = None) -> bytes:
    """The raw key the gateway derives for a form signed with ``keys`` (the test keys)."""
    keys = keys or ProviderKeys()
    [verified] = BraintreeProvider("pipeline_merchant", keys.braintree_public_key,
                                   keys.braintree_private_key).verify(form, {})
    return verified.event_id.encode()
