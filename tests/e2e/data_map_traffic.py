"""Every provider fixture as a signed webhook, renamed for one run, plus the bad ones.

Each fixture is sent as the provider sends it (``fixture_runs`` signs the same way), its ids
given the run's suffix so that no run meets another's rows or dedup entries. Beside the
valid ones: per provider one *invalid* copy of a fixture rich in card and personal data (the
normalizer dead-letters it, so its review and quarantine get data), a Stripe event of a type
the gateway has no route for (``webhooks.dlq``), and three *poison* records written straight
to the raw topics: a Stripe body cut short, a Braintree form cut short and a Square body
behind bytes that are not UTF-8.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import orjson

from contracts.providers import adyen_key
from contracts.topics import BRAINTREE_NOTIFICATION, SQUARE_PAYMENT, STRIPE_CHARGE
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
from tests.e2e.fixture_runs import rename
from tests.fixture_fields import FixtureRecord, braintree_key, record_of
from tests.lifecycles import PROVIDER_FIXTURES


@dataclass(frozen=True, slots=True)
class Webhook:
    provider: str
    body: bytes
    headers: dict[str, str]
    record: FixtureRecord  # what its raw topic holds, for the values to search for
    event_id: str  # where it must end: a payment_events row, or a quarantine row
    quarantined: bool = False


@dataclass
class Traffic:
    webhooks: list[Webhook] = field(default_factory=list)
    poison: list[tuple[str, bytes, bytes, str]] = field(default_factory=list)  # topic, key,
    # value, event_id of its quarantine row

    def add(self, hook: Webhook) -> None:
        self.webhooks.append(hook)


def stripe(traffic: Traffic, run: str, secret: str) -> None:
    for path in sorted(STRIPE_FIXTURES.glob("*.json")):
        body = orjson.loads(path.read_bytes())
        for key in ("id", "charge", "payment_intent"):
            old = body["data"]["object"].get(key)
            if isinstance(old, str) and old:
                body = orjson.loads(rename(orjson.dumps(body).decode(), old, f"{old}_{run}"))
        body["id"] = f"evt_dm_{path.stem.replace('.', '_')}_{run}"
        traffic.add(_stripe_hook(body, secret))
        if path.stem == "charge.succeeded":
            bad = orjson.loads(orjson.dumps(body))
            bad["id"], bad["data"]["object"]["amount"] = f"evt_dm_invalid_{run}", "20.00"
            traffic.add(_stripe_hook(bad, secret, quarantined=True))
            unrouted = {**bad, "id": f"evt_dm_unrouted_{run}", "type": "customer.updated"}
            traffic.add(_stripe_hook(unrouted, secret, quarantined=True))
            raw = orjson.dumps({**body, "id": f"evt_dm_cut_{run}"})
            cut = raw[:raw.index(b"Jenny") + 5]  # the address whole, the name cut
            traffic.poison.append((STRIPE_CHARGE, f"evt_dm_cut_{run}".encode(), cut,
                                   f"stripe:evt_dm_cut_{run}"))


def _stripe_hook(body: dict, secret: str, quarantined: bool = False) -> Webhook:
    raw = orjson.dumps(body)
    headers = {"Stripe-Signature": sign_stripe(raw, secret, int(time.time())),
               "Content-Type": "application/json"}
    record = record_of("stripe", body["id"], body["id"].encode(), raw)
    return Webhook("stripe", raw, headers, record, f"stripe:{body['id']}", quarantined)


def adyen(traffic: Traffic, run: str, keys: ProviderKeys) -> None:
    auth = adyen_basic_auth(keys.adyen_username, keys.adyen_password)
    for path in sorted((PROVIDER_FIXTURES / "adyen").glob("*.json")):
        for n, wrapped in enumerate(orjson.loads(path.read_bytes())["notificationItems"]):
            item = wrapped["NotificationRequestItem"]
            for name in ("pspReference", "originalReference"):
                if name in item:
                    item[name] = f"{item[name]}DM{run}".upper()
            traffic.add(_adyen_hook(item, keys, auth))
            if path.stem == "batch" and n == 0:  # expiry, card summary, auth code
                bad = {**orjson.loads(orjson.dumps(item)), "pspReference": f"BADDM{run}".upper()}
                bad["amount"] = {**bad["amount"], "currency": "XXX"}
                traffic.add(_adyen_hook(bad, keys, auth, quarantined=True))


def _adyen_hook(item: dict, keys: ProviderKeys, auth: str, quarantined: bool = False) -> Webhook:
    item.get("additionalData", {}).pop("hmacSignature", None)
    sign_adyen_item(item, keys.adyen_hmac_key)
    key, value = adyen_record(item)
    record = record_of("adyen", key, key.encode(), value)
    event_id = f"adyen:{adyen_key(item['pspReference'], item['eventCode'], item['success'])}"
    return Webhook("adyen", adyen_batch_body([item]),
                   {"Authorization": auth, "Content-Type": "application/json"}, record,
                   event_id, quarantined)


def braintree(traffic: Traffic, run: str, keys: ProviderKeys) -> None:
    for path in sorted((PROVIDER_FIXTURES / "braintree").glob("*.form")):
        form = path.read_bytes()
        subject = braintree_key(form).decode().split(":")[1]
        xml = base64.b64decode(parse_qs(form.decode())["bt_payload"][0]).decode()
        for old in sorted(set(re.findall(r"<id>([^<]+)</id>", xml)) | {subject}):
            xml = rename(xml, old, f"{old}_{run}")
        traffic.add(_braintree_hook(xml, keys))
        if path.stem == "transaction_settled_jpy":  # BIN and expiry
            bad = xml.replace("JPY", "XXX").replace("txn_jpy_0001", "txn_jpy_bad")
            traffic.add(_braintree_hook(bad, keys, quarantined=True))
        if path.stem == "transaction_settled":  # routing number, account holder
            signed = sign_braintree_form(xml.replace(subject, f"{subject}cut").encode(),
                                         keys.braintree_public_key, keys.braintree_private_key)
            key = f"transaction_settled:{subject}cut_{run}:2026-11-26T04:29:07Z"
            traffic.poison.append((BRAINTREE_NOTIFICATION, key.encode(),
                                   signed[:len(signed) * 3 // 4], f"braintree:{key}"))


def _braintree_hook(xml: str, keys: ProviderKeys, quarantined: bool = False) -> Webhook:
    signed = sign_braintree_form(xml.encode(), keys.braintree_public_key,
                                 keys.braintree_private_key)
    key = braintree_key(signed, keys)
    return Webhook("braintree", signed, {"Content-Type": "application/x-www-form-urlencoded"},
                   record_of("braintree", key.decode(), key, signed),
                   f"braintree:{key.decode()}", quarantined)


def square(traffic: Traffic, run: str, keys: ProviderKeys) -> None:
    for path in sorted((PROVIDER_FIXTURES / "square").glob("*.json")):
        body = orjson.loads(path.read_bytes())
        kind = "refund" if body["type"].startswith("refund.") else "payment"
        obj = body["data"]["object"][kind]
        payment_id = obj["id"] if kind == "payment" else obj["payment_id"]
        body = orjson.loads(rename(orjson.dumps(body).decode(), payment_id,
                                   f"{payment_id}_{run}"))
        body["event_id"] = f"{body['event_id']}-dm-{run}"
        traffic.add(_square_hook(body, keys))
        if path.stem == "payment.updated":  # BIN, fingerprint, expiry, receipt link
            bad = orjson.loads(orjson.dumps(body))
            bad["event_id"] = f"dm-invalid-{run}"
            bad["data"]["object"]["payment"]["amount_money"]["currency"] = "XXX"
            traffic.add(_square_hook(bad, keys, quarantined=True))
            key = f"dm-bin-{run}"
            traffic.poison.append((SQUARE_PAYMENT, key.encode(),
                                   b"\xff\xfe" + orjson.dumps(body), f"square:{key}"))


def _square_hook(body: dict, keys: ProviderKeys, quarantined: bool = False) -> Webhook:
    raw = orjson.dumps(body)
    headers = {SQUARE_SIGNATURE_HEADER: sign_square(raw, keys.square_signature_key,
                                                    keys.square_notification_url),
               "Content-Type": "application/json"}
    record = record_of("square", body["event_id"], body["event_id"].encode(), raw)
    return Webhook("square", raw, headers, record, f"square:{body['event_id']}", quarantined)


def build_traffic(run: str, keys: ProviderKeys, stripe_secret: str) -> Traffic:
    traffic = Traffic()
    stripe(traffic, run, stripe_secret)
    adyen(traffic, run, keys)
    braintree(traffic, run, keys)
    square(traffic, run, keys)
    return traffic
