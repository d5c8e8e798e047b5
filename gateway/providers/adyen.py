"""Adyen: HTTP Basic on the endpoint, an HMAC per notification item, one event per item.

The scheme (https://docs.adyen.com/development-resources/webhooks/verify-hmac-signatures):
each ``NotificationRequestItem`` carries ``additionalData.hmacSignature``, the base64
HMAC-SHA256, keyed by the hex-decoded key, over
``pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:
eventCode:success`` (an absent field is the empty string). The signing and comparison are
the official ``Adyen`` package's (``Adyen.util.is_valid_hmac_notification``); this module
only decides what may be handed to it, because the SDK raises or mis-renders on shapes it
does not expect (no ``amount``, an empty signature, ``null`` fields, a boolean ``success``).

What lands on Kafka, per authentic item:

- key: ``<pspReference>:<eventCode>:<success>``, e.g. ``7914073381342284:AUTHORISATION:true``.
  pspReference + eventCode is how Adyen says to spot a redelivery (a payment's
  AUTHORISATION and its CAPTURE differ; a refund has its own pspReference). ``success`` is
  in the key too, so that should Adyen ever report another outcome for the same
  pspReference and eventCode, the dedup downstream cannot drop it as a repeat; a plain
  redelivery carries the same ``success`` and still collapses;
- value: the ``NotificationRequestItem`` object alone, re-serialized as compact JSON with
  sorted keys. A batch's raw body cannot be split byte for byte, but the HMAC covers field
  values, not bytes, so the item JSON still re-verifies on its own, and a retried batch
  produces byte-identical values;
- header ``event_type``: the ``eventCode``.

What touches only itself: every item is judged alone. An item whose signature is missing,
malformed (not a string, not ASCII) or wrong is refused and never written; an authentic
item that cannot be used is dead-lettered: one with an unusable id, and one with a ':'
inside a signed field, because the signature covers the fields joined by ':' and so cannot
tell ``a:b`` + ``c`` from ``a`` + ``b:c`` (either split verifies; neither is trusted as an
event). An item whose compact JSON would not fit a Kafka record (a body of ``1e15``
numbers re-serializes ~4x larger) is refused as ``item_too_large``. A request with more
than ``max_items`` items is refused whole (413) before any item is checked.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from Adyen.util import is_valid_hmac_notification
from pydantic import Field, field_validator

from contracts.limits import MAX_VALUE_BYTES
from contracts.providers import Provider, adyen_key
from contracts.topics import ADYEN_NOTIFICATION
from gateway.errors import MalformedBodyError, PayloadTooLargeError, SignatureError
from gateway.providers import (
    Credential,
    InvalidItem,
    Outcome,
    ProviderSettings,
    RefusedItem,
    VerifiedEvent,
)
from gateway.providers._secrets import check_secret, is_placeholder, split_keys

if TYPE_CHECKING:
    from gateway.settings import GatewaySettings

PROVIDER = Provider.ADYEN.value
ACKNOWLEDGEMENT = ("text/plain", b"[accepted]")
# The signed fields that are plain strings; ``amount`` is checked on its own.
_SIGNED_TEXT = ("pspReference", "originalReference", "merchantAccountCode",
                "merchantReference", "eventCode", "success")
_MAX_ID = 255
_HEX_KEY = re.compile(r"(?:[0-9a-fA-F]{2})+")


# Adyen's HMAC keys are 32 bytes, shown as 64 hex digits in the Customer Area.
MIN_HMAC_KEY_HEX = 64
# The Basic auth password is chosen by the merchant in the Customer Area; this is ours.
MIN_PASSWORD_LENGTH = 16


class Settings(ProviderSettings):
    """``ADYEN_HMAC_KEY``: the webhook's HMAC key (hex, 64 digits), or several
    comma-separated while one is rotated (each is tried). ``ADYEN_BASIC_AUTH_USERNAME``,
    ``ADYEN_BASIC_AUTH_PASSWORD`` (16+ characters): the endpoint's HTTP Basic credentials.
    ``GATEWAY_ADYEN_MAX_ITEMS``: the most notification items one request may carry, default
    100; a request with more is refused whole (413 ``too_many_items``) before any item is
    verified."""

    ADYEN_HMAC_KEY: Credential = Field(default=None, validation_alias="ADYEN_HMAC_KEY")
    ADYEN_BASIC_AUTH_USERNAME: Credential = Field(default=None,
                                                  validation_alias="ADYEN_BASIC_AUTH_USERNAME")
    ADYEN_BASIC_AUTH_PASSWORD: Credential = Field(default=None,
                                                  validation_alias="ADYEN_BASIC_AUTH_PASSWORD")
    ADYEN_MAX_ITEMS: int = Field(default=100, gt=0)

    @field_validator("ADYEN_HMAC_KEY")
    @classmethod
    def refuse_weak_hmac_keys(cls, value: str | None) -> str | None:
        if value is None:
            return None  # required, as every credential: gateway.settings says so
        keys = split_keys("ADYEN_HMAC_KEY", value)
        for key in keys:
            if not is_placeholder(key) and _HEX_KEY.fullmatch(key) is None:
                raise ValueError("ADYEN_HMAC_KEY must be the hex key Adyen shows "
                                 "(an even number of 0-9a-f digits)")
            check_secret("ADYEN_HMAC_KEY", key, min_length=MIN_HMAC_KEY_HEX,
                         why="Adyen's keys are 32 bytes, 64 hex digits")
        return ",".join(keys)

    @field_validator("ADYEN_BASIC_AUTH_PASSWORD")
    @classmethod
    def refuse_weak_password(cls, value: str | None) -> str | None:
        if value is not None:
            check_secret("ADYEN_BASIC_AUTH_PASSWORD", value, min_length=MIN_PASSWORD_LENGTH,
                         why="the gateway's minimum for the endpoint's Basic auth")
        return value

    @property
    def hmac_keys(self) -> tuple[str, ...]:
        return tuple((self.ADYEN_HMAC_KEY or "").split(","))


def build(own: Settings, settings: GatewaySettings) -> AdyenProvider:
    return AdyenProvider(own.hmac_keys, own.ADYEN_BASIC_AUTH_USERNAME,
                         own.ADYEN_BASIC_AUTH_PASSWORD, max_items=own.ADYEN_MAX_ITEMS)


class BasicAuthError(SignatureError):
    """The endpoint's HTTP Basic credentials are missing or wrong."""

    status_code = 401
    response_headers = ((b"www-authenticate", b'Basic realm="adyen-webhooks"'),)


class AdyenProvider:
    """Checks Basic auth for the request, then each item's HMAC on its own."""

    name = PROVIDER
    acknowledgement = ACKNOWLEDGEMENT

    def __init__(self, hmac_keys: str | Sequence[str] | None, username: str | None,
                 password: str | None, *, max_items: int = 100) -> None:
        keys = (hmac_keys,) if isinstance(hmac_keys, str) else tuple(hmac_keys or ())
        if not (keys and all(keys) and username and password):
            raise ValueError("Adyen needs an HMAC key and Basic auth credentials")
        for key in keys:
            binascii.a2b_hex(key)  # refuse a non-hex key here, not on the first webhook
        # Tried in order during a rotation: the SDK's check is a few µs per key.
        self._hmac_keys = keys
        self._credentials = f"{username}:{password}".encode()
        self._max_items = max_items

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> tuple[Outcome, ...]:
        self.check_basic_auth(headers.get("authorization"))
        items = parse_notification_items(raw)
        if len(items) > self._max_items:
            raise PayloadTooLargeError("too_many_items",
                                       f"{len(items)} notification items; at most "
                                       f"{self._max_items} per request", provider=PROVIDER)
        outcomes = tuple(self.verify_item(item) for item in items)
        if not any(isinstance(outcome, VerifiedEvent | InvalidItem) for outcome in outcomes):
            # Nothing authentic at all: refuse the request, so Adyen shows the failure and
            # retries, instead of an [accepted] that would bury a wrong key for good.
            first = outcomes[0]
            error = PayloadTooLargeError if first.reason == "item_too_large" else SignatureError
            raise error(first.reason, f"no notification item can be accepted: {first.detail}",
                        provider=PROVIDER)
        return outcomes

    def check_basic_auth(self, header: str | None) -> None:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "basic" or not token:
            raise BasicAuthError("unauthorized", "HTTP Basic credentials are required",
                                 provider=PROVIDER)
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except ValueError:  # binascii.Error, or a header that is not ASCII
            given = b""
        if not hmac.compare_digest(given, self._credentials):
            raise BasicAuthError("unauthorized", "HTTP Basic credentials are wrong",
                                 provider=PROVIDER)

    def verify_item(self, wrapper: Any) -> Outcome:
        item = wrapper.get("NotificationRequestItem") if isinstance(wrapper, dict) else None
        if not isinstance(item, dict):
            return RefusedItem("item_malformed",
                               "an entry has no NotificationRequestItem object", None)
        event_id = item_event_id(item)
        problem = unsignable(item)
        if problem is not None:
            reason, detail = problem
            return RefusedItem(reason, detail, event_id)
        if not any(is_valid_hmac_notification(signable(item), key) for key in self._hmac_keys):
            return RefusedItem("signature_mismatch",
                               "hmacSignature does not match the item for any configured key",
                               event_id)
        value = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
        if len(value) > MAX_VALUE_BYTES:
            return RefusedItem("item_too_large", f"the item is {len(value)} bytes as compact "
                               f"JSON; a record holds at most {MAX_VALUE_BYTES}", event_id)
        colon = next((name for name, text in signed_texts(item) if ":" in text), None)
        if colon is not None:
            return InvalidItem("signed_field_has_colon",
                               f"signed field {colon} holds ':', which the signature cannot "
                               f"tell apart from a field boundary", event_id, value)
        if event_id is None:
            return InvalidItem("invalid_structure",
                               f"pspReference and eventCode must be 1-{_MAX_ID} characters "
                               f"and success 'true' or 'false'",
                               None, value)
        return VerifiedEvent(PROVIDER, event_id, item["eventCode"], ADYEN_NOTIFICATION, value)


def parse_notification_items(raw: bytes) -> list[Any]:
    """The batch's entries; a body with no entries has nothing that could be authentic."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedBodyError("body_not_json", "body is not valid UTF-8 JSON",
                                 provider=PROVIDER) from None
    items = body.get("notificationItems") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise MalformedBodyError("invalid_structure",
                                 "notificationItems must be a non-empty list",
                                 provider=PROVIDER)
    return items


def item_event_id(item: dict) -> str | None:
    """``<pspReference>:<eventCode>:<success>``, or None when a part is missing or unusable."""
    psp, code, success = item.get("pspReference"), item.get("eventCode"), item.get("success")
    if not (isinstance(psp, str) and isinstance(code, str) and success in ("true", "false")):
        return None
    if not (0 < len(psp) <= _MAX_ID and 0 < len(code) <= _MAX_ID):
        return None
    return adyen_key(psp, code, success)


def unsignable(item: dict) -> tuple[str, str] | None:
    """Why the SDK cannot be trusted to check this item, or None when it can."""
    additional = item.get("additionalData")
    signature = additional.get("hmacSignature") if isinstance(additional, dict) else None
    if not isinstance(signature, str) or not signature:
        return "signature_missing", "additionalData.hmacSignature is missing"
    if not signature.isascii():
        # The SDK compares text with hmac.compare_digest, which raises on non-ASCII.
        return "signature_malformed", "additionalData.hmacSignature is not base64 text"
    for name in _SIGNED_TEXT:
        if item.get(name) is not None and not isinstance(item[name], str):
            return "signature_malformed", f"signed field {name} is not a string"
    amount = item.get("amount")
    if not isinstance(amount, dict):
        return "signature_malformed", "signed field amount is missing"
    value, currency = amount.get("value"), amount.get("currency")
    # bool is an int to Python; str(True) would sign "True", which Adyen never does.
    if type(value) is not int or not isinstance(currency, str):
        return "signature_malformed", "amount needs an integer value and a string currency"
    return None


def signed_texts(item: dict) -> list[tuple[str, str]]:
    """The signed fields that are text (``unsignable`` has checked their types)."""
    texts = [(name, item[name]) for name in _SIGNED_TEXT if item.get(name) is not None]
    return [*texts, ("amount.currency", item["amount"]["currency"])]


def signable(item: dict) -> dict:
    """The item as the SDK expects it: absent and null signed fields both sign as ''."""
    prepared = {name: item[name] for name in _SIGNED_TEXT if item.get(name) is not None}
    prepared["amount"] = {"value": item["amount"]["value"],
                          "currency": item["amount"]["currency"]}
    prepared["additionalData"] = {"hmacSignature": item["additionalData"]["hmacSignature"]}
    return prepared
