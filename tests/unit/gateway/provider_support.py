"""Helpers for the Adyen, Braintree and Square tests: fixture files, keys and signing."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from pathlib import Path
from urllib.parse import urlencode

import orjson

from streams.simulation.signing import ProviderKeys

PROVIDER_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"

# One definition of the test keys: the simulator's (streams.simulation.signing.ProviderKeys),
# which the fixtures are signed with (see their README). Adyen's is its published example key.
_KEYS = ProviderKeys()
ADYEN_HMAC_KEY = _KEYS.adyen_hmac_key
ADYEN_USER, ADYEN_PASSWORD = _KEYS.adyen_username, _KEYS.adyen_password
BRAINTREE_MERCHANT, BRAINTREE_PUBLIC, BRAINTREE_PRIVATE = (
    "pipeline_merchant", _KEYS.braintree_public_key, _KEYS.braintree_private_key)
SQUARE_KEY = _KEYS.square_signature_key
SQUARE_URL = _KEYS.square_notification_url

PROVIDER_SETTINGS = {
    "PROVIDERS": "stripe,adyen,braintree,square",
    "ADYEN_HMAC_KEY": ADYEN_HMAC_KEY,
    "ADYEN_BASIC_AUTH_USERNAME": ADYEN_USER,
    "ADYEN_BASIC_AUTH_PASSWORD": ADYEN_PASSWORD,
    "BRAINTREE_MERCHANT_ID": BRAINTREE_MERCHANT,
    "BRAINTREE_PUBLIC_KEY": BRAINTREE_PUBLIC,
    "BRAINTREE_PRIVATE_KEY": BRAINTREE_PRIVATE,
    "SQUARE_SIGNATURE_KEY": SQUARE_KEY,
    "SQUARE_NOTIFICATION_URL": SQUARE_URL,
}


def read_fixture(relative: str) -> bytes:
    return (PROVIDER_FIXTURES / relative).read_bytes()


def adyen_items(relative: str = "adyen/batch.json") -> list[dict]:
    """The NotificationRequestItems of a fixture, as fresh dicts a test may change."""
    body = orjson.loads(read_fixture(relative))
    return [copy.deepcopy(entry["NotificationRequestItem"]) for entry in body["notificationItems"]]


def adyen_signature(item: dict, key: str = ADYEN_HMAC_KEY) -> str:
    """Adyen's documented scheme written out independently of the SDK under test."""
    amount = item.get("amount", {})
    fields = [item.get("pspReference", ""), item.get("originalReference", ""),
              item.get("merchantAccountCode", ""), item.get("merchantReference", ""),
              str(amount.get("value", "")), amount.get("currency", ""),
              item.get("eventCode", ""), item.get("success", "")]
    digest = hmac.new(bytes.fromhex(key), ":".join(fields).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_adyen_item(item: dict, key: str = ADYEN_HMAC_KEY) -> dict:
    item.setdefault("additionalData", {})["hmacSignature"] = adyen_signature(item, key)
    return item


def adyen_batch(*items: dict) -> bytes:
    return orjson.dumps({"live": "false",
                         "notificationItems": [{"NotificationRequestItem": i} for i in items]})


def basic_auth(user: str = ADYEN_USER, password: str = ADYEN_PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def braintree_gateway(private_key: str = BRAINTREE_PRIVATE, public_key: str = BRAINTREE_PUBLIC):
    import braintree

    config = braintree.Configuration(braintree.Environment.Sandbox, BRAINTREE_MERCHANT,
                                     public_key, private_key)
    return braintree.BraintreeGateway(config)


def braintree_form(kind: str, object_id: str, **keys: str) -> bytes:
    """A form body signed by the SDK's own sample-notification helper."""
    sample = braintree_gateway(**keys).webhook_testing.sample_notification(kind, object_id)
    return urlencode(sample).encode()


def square_signature(body: bytes, key: str = SQUARE_KEY, url: str = SQUARE_URL) -> str:
    """Square's documented scheme: base64 HMAC-SHA256 over the URL and the raw body."""
    return base64.b64encode(hmac.new(key.encode(), url.encode() + body,
                                     hashlib.sha256).digest()).decode()


def fuzz_strategies():
    """Bodies and header values for the never-a-5xx fuzz tests (bounded JSON integers:
    orjson cannot dump past 64 bits)."""
    import string

    from hypothesis import strategies as st

    scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
               | st.text(max_size=20))
    json_values = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                    max_size=5),
        max_leaves=12,
    )
    header_text = st.text(alphabet=string.printable.strip() + " \xe9\xfc", max_size=60).map(
        lambda text: text.encode("latin-1"))
    return json_values, header_text
