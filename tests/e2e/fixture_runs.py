"""Fixture lifecycles as signed webhook requests, renamed per run so runs never meet.

The real-stack order test sends one payment's fixture events many times, each time in
another order. Each run must be its own payment with its own event ids, or the pipeline
would (rightly) treat a later run as duplicates of the first. So every id that makes a
payment or an event key is given the run's suffix in the provider's own body, which is then
signed as the provider signs it. What the renamed bodies map to is checked by the real
mappers (``mapped``), so a rename that missed an id fails before anything is sent.

Which lifecycles: every fixture payment with more than one event. Braintree's fixtures are
one event per payment, so its run puts all five under one payment, as the pure test's
``braintree:all-fixtures`` lifecycle does.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

import orjson

from contracts import PaymentEvent
from gateway.providers.braintree import BraintreeProvider
from streams.providers.adyen import map_adyen_record
from streams.providers.braintree import map_braintree_record
from streams.providers.square import map_square_record
from streams.providers.stripe import map_stripe_bytes
from streams.simulation.signing import (
    SQUARE_SIGNATURE_HEADER,
    ProviderKeys,
    adyen_basic_auth,
    adyen_batch_body,
    adyen_record,
    sign_adyen_item,
    sign_braintree_form,
    sign_square,
    sign_stripe,
)
from tests.builders import STRIPE_FIXTURES
from tests.lifecycles import PROCESSED_AT, PROVIDER_FIXTURES


@dataclass(frozen=True, slots=True)
class Request:
    """One webhook as the provider would post it, and what the normalizer makes of it."""

    provider: str
    body: bytes
    headers: dict[str, str]
    event: PaymentEvent


def rename(text: str, old: str, new: str) -> str:
    # Whole ids only: ch_00000000000000 is a prefix of ch_000000000000000000000000.
    return re.sub(rf"(?<![0-9A-Za-z_]){re.escape(old)}(?![0-9A-Za-z_])", new, text)


def stripe_runs(run: str, secret: str) -> dict[str, list[Request]]:
    """Payment id -> its renamed events, one per fixture file, in fixture order."""
    found: dict[str, list[Request]] = {}
    for path in sorted(STRIPE_FIXTURES.glob("*.json")):
        body = orjson.loads(path.read_bytes())
        body["id"] = f"evt_{path.stem.replace('.', '_')}"
        payment_id = map_stripe_bytes(orjson.dumps(body), PROCESSED_AT).payment_id
        renamed = orjson.loads(rename(orjson.dumps(body).decode(), payment_id,
                                       f"{payment_id}_{run}"))
        renamed["id"] = f"{body['id']}_{run}"
        raw = orjson.dumps(renamed)
        headers = {"Stripe-Signature": sign_stripe(raw, secret, int(time.time())),
                   "Content-Type": "application/json"}
        found.setdefault(payment_id, []).append(
            Request("stripe", raw, headers, map_stripe_bytes(raw, PROCESSED_AT)))
    return {pid: requests for pid, requests in found.items() if len(requests) > 1}


def adyen_runs(run: str, keys: ProviderKeys) -> dict[str, list[Request]]:
    found: dict[str, list[Request]] = {}
    for path in sorted((PROVIDER_FIXTURES / "adyen").glob("*.json")):
        for wrapped in orjson.loads(path.read_bytes())["notificationItems"]:
            item = wrapped["NotificationRequestItem"]
            key, value = adyen_record(item)
            payment_id = map_adyen_record(key.encode(), value, PROCESSED_AT).payment_id
            item.get("additionalData", {}).pop("hmacSignature", None)
            for name in ("pspReference", "originalReference"):
                if name in item:  # the payment's and the event's own references
                    item[name] = f"{item[name]}{run}".upper()
            sign_adyen_item(item, keys.adyen_hmac_key)
            key, value = adyen_record(item)
            headers = {"Authorization": adyen_basic_auth(keys.adyen_username,
                                                         keys.adyen_password),
                       "Content-Type": "application/json"}
            found.setdefault(payment_id, []).append(Request(
                "adyen", adyen_batch_body([item]), headers,
                map_adyen_record(key.encode(), value, PROCESSED_AT)))
    return {pid: requests for pid, requests in found.items() if len(requests) > 1}


def braintree_runs(run: str, keys: ProviderKeys) -> dict[str, list[Request]]:
    """All five fixtures under one payment, ``bt_all_<run>``; other subject ids renamed."""
    # The fixtures are signed with the test keys; the renamed forms with the stack's.
    fixtures = BraintreeProvider("pipeline_merchant", ProviderKeys().braintree_public_key,
                                 ProviderKeys().braintree_private_key)
    gateway = BraintreeProvider("pipeline_merchant", keys.braintree_public_key,
                                keys.braintree_private_key)
    common = f"bt_all_{run}"
    requests = []
    for path in sorted((PROVIDER_FIXTURES / "braintree").glob("*.form")):
        form = path.read_bytes()
        [verified] = fixtures.verify(form, {})
        original = map_braintree_record(verified.event_id.encode(), form, PROCESSED_AT)
        xml = base64.b64decode(parse_qs(form.decode())["bt_payload"][0]).decode()
        xml = rename(xml, original.payment_id, common)
        subject = verified.event_id.split(":")[1]
        if subject != original.payment_id:
            xml = rename(xml, subject, f"{subject}_{run}")
        signed = sign_braintree_form(xml.encode(), keys.braintree_public_key,
                                     keys.braintree_private_key)
        [renamed] = gateway.verify(signed, {})
        requests.append(Request(
            "braintree", signed, {"Content-Type": "application/x-www-form-urlencoded"},
            map_braintree_record(renamed.event_id.encode(), signed, PROCESSED_AT)))
    return {"all-fixtures": requests}


def square_runs(run: str, keys: ProviderKeys) -> dict[str, list[Request]]:
    found: dict[str, list[Request]] = {}
    for path in sorted((PROVIDER_FIXTURES / "square").glob("*.json")):
        body = orjson.loads(path.read_bytes())
        payment_id = map_square_record(body["event_id"].encode(), path.read_bytes(),
                                       PROCESSED_AT).payment_id
        renamed = orjson.loads(rename(orjson.dumps(body).decode(), payment_id,
                                       f"{payment_id}_{run}"))
        renamed["event_id"] = f"{body['event_id']}-{run}"
        raw = orjson.dumps(renamed)
        headers = {SQUARE_SIGNATURE_HEADER: sign_square(raw, keys.square_signature_key,
                                                        keys.square_notification_url),
                   "Content-Type": "application/json"}
        found.setdefault(payment_id, []).append(Request(
            "square", raw, headers,
            map_square_record(renamed["event_id"].encode(), raw, PROCESSED_AT)))
    return {pid: requests for pid, requests in found.items() if len(requests) > 1}


def runs(provider: str, run: str, keys: ProviderKeys,
         stripe_secret: str) -> dict[str, list[Request]]:
    """The provider's multi-event fixture lifecycles, renamed for this run."""
    if provider == "stripe":
        return stripe_runs(run, stripe_secret)
    return {"adyen": adyen_runs, "braintree": braintree_runs,
            "square": square_runs}[provider](run, keys)


def run_tag(n: int) -> str:
    """A short suffix unique to this test session and run: ids stay far below the limits."""
    return f"o{datetime.now(UTC):%H%M%S}{n:02d}"

