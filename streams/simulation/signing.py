"""Signing as Stripe, Adyen, Braintree and Square do, and the records the gateway writes for them.

Used by the simulator (and the tests) to produce webhooks the gateway accepts, or, for
``--target kafka``, exactly the key and value the gateway would have put on the raw topic
(see the docstrings of ``gateway/providers/adyen.py``, ``braintree.py``, ``square.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import orjson
from Adyen.util import generate_notification_sig
from braintree.util.crypto import Crypto
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.providers import adyen_key

SQUARE_SIGNATURE_HEADER = "x-square-hmacsha256-signature"


@dataclass(frozen=True, slots=True)
class ProviderKeys:
    """The credentials the gateway is configured with; test-only values by default."""

    adyen_hmac_key: str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
    adyen_username: str = "adyen_ws_user"
    adyen_password: str = "adyen-ws-password"
    braintree_public_key: str = "pipeline_public_key"
    braintree_private_key: str = "pipeline_private_key_for_tests_0001"
    square_signature_key: str = "square_test_signature_key"
    square_notification_url: str = "https://gateway.test/webhooks/square"


class SigningSettings(BaseSettings):
    """The gateway's provider credentials, read under the gateway's own names (see
    ``contracts.providers.CREDENTIAL_SETTINGS``), so what the simulator signs verifies."""

    model_config = SettingsConfigDict(extra="ignore")

    ADYEN_HMAC_KEY: str | None = None
    ADYEN_BASIC_AUTH_USERNAME: str | None = None
    ADYEN_BASIC_AUTH_PASSWORD: str | None = None
    BRAINTREE_PUBLIC_KEY: str | None = None
    BRAINTREE_PRIVATE_KEY: str | None = None
    SQUARE_SIGNATURE_KEY: str | None = None
    SQUARE_NOTIFICATION_URL: str | None = None


def sign_stripe(body: bytes, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header: v1 is HMAC-SHA256 over "{t}.{body}" with the secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def sign_adyen_item(item: dict[str, Any], hex_key: str) -> dict[str, Any]:
    """Set additionalData.hmacSignature with the official SDK's signer; returns the item."""
    signature = generate_notification_sig(item, hex_key).decode()
    item.setdefault("additionalData", {})["hmacSignature"] = signature
    return item


def adyen_batch_body(items: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"live": "false",
                         "notificationItems": [{"NotificationRequestItem": i} for i in items]})


def adyen_basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def adyen_record(item: dict[str, Any]) -> tuple[str, bytes]:
    """The gateway's (key, value) for one authentic item."""
    key = adyen_key(item["pspReference"], item["eventCode"], item["success"])
    return key, orjson.dumps(item, option=orjson.OPT_SORT_KEYS)


def braintree_xml(kind: str, timestamp: str, subject_tag: str, subject: dict[str, Any]) -> bytes:
    """A notification document like Braintree's (dashed tags, typed timestamp)."""
    inner = _xml_element(subject_tag, subject)
    return (f'<notification><timestamp type="datetime">{timestamp}</timestamp>'
            f"<kind>{escape(kind)}</kind><subject>{inner}</subject></notification>").encode()


def sign_braintree_form(xml: bytes, public_key: str, private_key: str) -> bytes:
    """The form body Braintree posts: bt_payload (base64 XML) and its HMAC-SHA1 signature,
    computed with the SDK's own helper, as its webhook_testing does."""
    payload = base64.encodebytes(xml)
    signature = f"{public_key}|{Crypto.sha1_hmac_hash(private_key, payload)}"
    return urlencode({"bt_signature": signature, "bt_payload": payload}).encode()


def sign_square(body: bytes, signature_key: str, notification_url: str) -> str:
    """Square's header: base64 HMAC-SHA256 over the notification URL then the raw body."""
    mac = hmac.new(signature_key.encode(), notification_url.encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def square_topic_kind(square_type: str) -> str:
    """square_refund for refund.*, else square_payment (the gateway routes the same way)."""
    return "square_refund" if square_type.startswith("refund.") else "square_payment"


def _xml_element(tag: str, value: Any) -> str:
    name = tag.replace("_", "-")
    if isinstance(value, dict):
        return f"<{name}>{''.join(_xml_element(k, v) for k, v in value.items())}</{name}>"
    if isinstance(value, list):
        items = "".join(_xml_element(name.removesuffix("s"), v) for v in value)
        return f'<{name} type="array">{items}</{name}>'
    if value is None:
        return f'<{name} nil="true"/>'
    return f"<{name}>{escape(str(value))}</{name}>"
