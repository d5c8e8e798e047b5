"""Braintree: a form body whose ``bt_payload`` the official SDK verifies and parses.

The request is ``application/x-www-form-urlencoded`` with ``bt_signature``
(``<public key>|<hex HMAC-SHA1>`` pairs joined by ``&``) and ``bt_payload`` (base64 XML).
``braintree``'s ``webhook_notification.parse`` checks the signature against the configured
key pair before it decodes anything; there is no mode that skips it.

What lands on Kafka:

- key: ``<kind>:<subject id>:<timestamp>``, because Braintree notifications carry no id
  of their own. The subject id is the id of the notification's subject object (the
  transaction for ``transaction_*``, the dispute for ``dispute_*``, the subscription for
  ``subscription_*``, ...); a subject without an id (``check``) uses ``sha256:`` and the
  first 16 hex digits of the decoded payload's digest instead, so two such notifications
  in one second never collapse. The timestamp is the notification's, as
  ``YYYY-MM-DDTHH:MM:SSZ`` (UTC). Treat the key as opaque: ids may hold colons.
- value: the request body exactly as received (the url-encoded form), so the signature
  can be re-checked with the SDK and the XML read back with
  ``parse_qs`` -> ``base64`` -> ``braintree.util.xml_util.XmlUtil.dict_from_xml``;
- header ``event_type``: the notification's ``kind``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import braintree
from braintree.exceptions.invalid_signature_error import InvalidSignatureError
from pydantic import Field, field_validator, model_validator

from contracts.providers import Provider, braintree_key
from contracts.topics import BRAINTREE_NOTIFICATION
from gateway.errors import InvalidEventError, MalformedBodyError, SignatureError
from gateway.providers import Credential, Outcome, ProviderSettings, VerifiedEvent
from gateway.providers._secrets import check_keys, is_placeholder, split_keys

if TYPE_CHECKING:
    from gateway.settings import GatewaySettings

log = logging.getLogger("gateway.providers.braintree")
PROVIDER = Provider.BRAINTREE.value
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
# Braintree posts two fields; a few more are tolerated, a form of thousands is refused
# before it is parsed (a 1 MiB form of empty fields cost ~0.3-0.44 s of parse).
MAX_FORM_FIELDS = 8
# What the SDK says when bt_signature names another public key than its configured one.
_NO_MATCHING_KEY = "no matching public key"
# Braintree's private keys are 32 hex digits (its public keys and merchant ids are 16).
MIN_PRIVATE_KEY_LENGTH = 32


class Settings(ProviderSettings):
    """``BRAINTREE_MERCHANT_ID``, ``BRAINTREE_PUBLIC_KEY``, ``BRAINTREE_PRIVATE_KEY``: the API
    key pair the webhooks are signed with (the private key 32+ characters). While a key pair
    is rotated, list both: comma-separated public keys and, in the same order, their
    private keys. ``bt_signature`` names the public key of each signature it carries."""

    BRAINTREE_MERCHANT_ID: Credential = Field(default=None,
                                              validation_alias="BRAINTREE_MERCHANT_ID")
    BRAINTREE_PUBLIC_KEY: Credential = Field(default=None, validation_alias="BRAINTREE_PUBLIC_KEY")
    BRAINTREE_PRIVATE_KEY: Credential = Field(default=None,
                                              validation_alias="BRAINTREE_PRIVATE_KEY")

    @field_validator("BRAINTREE_PUBLIC_KEY")
    @classmethod
    def refuse_unusable_public_keys(cls, value: str | None) -> str | None:
        if value is None:
            return None  # required, as every credential: gateway.settings says so
        keys = split_keys("BRAINTREE_PUBLIC_KEY", value)
        # bt_signature is "<public key>|<signature>" pairs joined by "&".
        if any(is_placeholder(key) or "|" in key or "&" in key for key in keys):
            raise ValueError("BRAINTREE_PUBLIC_KEY must be Braintree's public key (no "
                             "placeholder, no '|' or '&')")
        return ",".join(keys)

    @field_validator("BRAINTREE_PRIVATE_KEY")
    @classmethod
    def refuse_weak_private_keys(cls, value: str | None) -> str | None:
        if value is None:
            return None  # required, as every credential: gateway.settings says so
        return check_keys("BRAINTREE_PRIVATE_KEY", value, min_length=MIN_PRIVATE_KEY_LENGTH,
                          why="Braintree's private keys are 32 hex digits")

    @model_validator(mode="after")
    def refuse_unpaired_keys(self) -> Settings:
        public, private = self.BRAINTREE_PUBLIC_KEY, self.BRAINTREE_PRIVATE_KEY
        if public and private and public.count(",") != private.count(","):
            raise ValueError("BRAINTREE_PUBLIC_KEY and BRAINTREE_PRIVATE_KEY must list as "
                             "many keys, in the same order (one pair per position)")
        return self

    @property
    def key_pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple(zip((self.BRAINTREE_PUBLIC_KEY or "").split(","),
                         (self.BRAINTREE_PRIVATE_KEY or "").split(","), strict=True))


def build(own: Settings, settings: GatewaySettings) -> BraintreeProvider:
    public, private = zip(*own.key_pairs, strict=True)
    return BraintreeProvider(own.BRAINTREE_MERCHANT_ID, public, private)


class BraintreeProvider:
    """Verifies Braintree webhooks with the SDK, for one merchant's key pairs.

    The SDK verifies against the one key pair it is configured with, picking the
    ``bt_signature`` entry that names that pair's public key; during a rotation there is
    one SDK gateway per pair, and the request is authentic when any of them says so.
    """

    name = PROVIDER
    media_type = FORM_MEDIA_TYPE

    def __init__(self, merchant_id: str | None, public_keys: str | Sequence[str] | None,
                 private_keys: str | Sequence[str] | None) -> None:
        public = (public_keys,) if isinstance(public_keys, str) else tuple(public_keys or ())
        private = ((private_keys,) if isinstance(private_keys, str)
                   else tuple(private_keys or ()))
        if not (merchant_id and public and all(public) and all(private)
                and len(public) == len(private)):
            raise ValueError("Braintree needs a merchant id and public/private key pairs")
        # The environment only picks API hosts; webhook verification never calls out.
        self._webhooks = tuple(
            braintree.BraintreeGateway(braintree.Configuration(
                braintree.Environment.Sandbox, merchant_id, public_key, private_key,
            )).webhook_notification
            for public_key, private_key in zip(public, private, strict=True))

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> tuple[Outcome, ...]:
        signature, payload = parse_form(raw)
        check_signature_shape(signature)
        notification = self.parse_signed(signature, payload)
        kind = getattr(notification, "kind", None)
        timestamp = getattr(notification, "timestamp", None)
        if not isinstance(kind, str) or not kind or not isinstance(timestamp, datetime):
            raise InvalidEventError("invalid_structure",
                                    "the notification has no kind or no timestamp")
        event_id = notification_event_id(kind, timestamp, notification.subject, payload)
        return (VerifiedEvent(PROVIDER, event_id, kind, BRAINTREE_NOTIFICATION, raw),)

    def parse_signed(self, signature: str, payload: bytes) -> Any:
        """The SDK's notification, from the first configured key pair that verifies it."""
        refusals: list[str] = []
        for webhooks in self._webhooks:
            try:
                return webhooks.parse(signature, payload)
            except InvalidSignatureError as exc:
                refusals.append(str(exc))  # not this pair's: the next pair may verify it
                continue
            except Exception as exc:
                # The SDK checks the signature before decoding, and the shapes that break
                # it earlier were refused already, so this is about a signed payload. The
                # class goes to the log only; the answer carries the reason code.
                log.warning("signed bt_payload does not parse",
                            extra={"error": type(exc).__name__})
                raise InvalidEventError("invalid_structure", "the signed bt_payload is not a "
                                        "Braintree notification document") from None
        # The SDK's words for the pair that named its public key, if one did.
        named = [text for text in refusals if text != _NO_MATCHING_KEY]
        raise SignatureError("signature_mismatch", f"bt_signature: {(named or refusals)[0]}",
                             provider=PROVIDER)


def parse_form(raw: bytes) -> tuple[str, bytes]:
    """Exactly one ``bt_signature`` and one ``bt_payload``, or a 400 naming what is wrong.

    The fields are counted (in C, one pass) before any is parsed, so the signature check
    never waits behind a parse of thousands of fields.
    """
    if raw.count(b"&") + 1 > MAX_FORM_FIELDS:
        raise MalformedBodyError("form_too_many_fields",
                                 f"a Braintree form has at most {MAX_FORM_FIELDS} fields",
                                 provider=PROVIDER)
    try:
        form = parse_qs(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True,
                        max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise MalformedBodyError("body_not_form", "body is not an ASCII url-encoded form",
                                 provider=PROVIDER) from None
    signatures, payloads = form.get("bt_signature", []), form.get("bt_payload", [])
    if not signatures or not signatures[0] or not payloads or not payloads[0]:
        raise SignatureError("signature_missing", "bt_signature and bt_payload are required",
                             provider=PROVIDER)
    if len(signatures) > 1 or len(payloads) > 1:
        raise SignatureError("signature_malformed", "bt_signature or bt_payload is repeated",
                             provider=PROVIDER)
    try:
        payload = payloads[0].encode("ascii")
    except UnicodeEncodeError:
        raise SignatureError("signature_malformed", "bt_payload is not base64",
                             provider=PROVIDER) from None
    return signatures[0], payload


def check_signature_shape(signature: str) -> None:
    """Refuse what would make the SDK raise something other than InvalidSignatureError."""
    for pair in signature.split("&"):
        if "|" in pair and pair.count("|") != 1:
            raise SignatureError("signature_malformed",
                                 "bt_signature pairs must be <public key>|<signature>",
                                 provider=PROVIDER)


def notification_event_id(kind: str, timestamp: datetime, subject: Any, payload: bytes) -> str:
    """``<kind>:<subject id>:<timestamp>``: Braintree gives a notification no id."""
    subject_id = subject_object_id(subject)
    if subject_id is None:
        try:
            decoded = base64.decodebytes(payload)
        except binascii.Error:
            decoded = payload
        subject_id = "sha256:" + hashlib.sha256(decoded).hexdigest()[:16]
    return braintree_key(kind, subject_id, timestamp)


def subject_object_id(subject: Any) -> str | None:
    """The id of the notification's subject object (transaction, dispute, ...), if any."""
    if not isinstance(subject, dict):
        return None
    subject = subject.get("api_error_response", subject)
    for value in subject.values() if isinstance(subject, dict) else ():
        object_id = value.get("id") if isinstance(value, dict) else None
        if isinstance(object_id, str) and object_id:
            return object_id
    return None
