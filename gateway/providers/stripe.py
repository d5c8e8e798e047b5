"""Stripe: signature verification, the structural payload model and topic routing.

The signature scheme (https://docs.stripe.com/webhooks#verify-manually): the
``Stripe-Signature`` header is ``t=<unix seconds>,v1=<hex>[,v1=<hex>...]``, and a ``v1``
value is HMAC-SHA256, keyed by the endpoint secret, over ``"{t}." + body``. Any one ``v1``
may match. The comparison itself is the official ``stripe`` package's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import stripe
from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.providers import Provider, stripe_raw_topic
from gateway.errors import InvalidEventError, MalformedBodyError, SignatureError
from gateway.providers import ProviderSettings, VerifiedEvent
from gateway.providers._secrets import check_secret, is_placeholder, split_keys
from gateway.providers._structure import parse_json_event

if TYPE_CHECKING:
    from gateway.settings import GatewaySettings

PROVIDER = Provider.STRIPE.value
SIGNATURE_HEADER = "stripe-signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


# Stripe's endpoint secrets are ``whsec_`` then 32 characters (Dashboard) or 64 hex digits
# (the Stripe CLI's ``stripe listen``); nothing shorter comes from Stripe.
SECRET_PREFIX = "whsec_"
MIN_SECRET_LENGTH = len(SECRET_PREFIX) + 32


class Settings(ProviderSettings):
    """``STRIPE_WEBHOOK_SECRET``: one or more comma-separated Stripe signing secrets
    (``whsec_`` and at least 32 characters). Several are accepted during a rotation; each
    is tried."""

    STRIPE_WEBHOOK_SECRET: str | None = Field(default=None,
                                              validation_alias="STRIPE_WEBHOOK_SECRET")

    @field_validator("STRIPE_WEBHOOK_SECRET")
    @classmethod
    def refuse_weak_secrets(cls, value: str | None) -> str | None:
        if value is None:
            return None  # required, as every credential: gateway.settings says so
        secrets = split_keys("STRIPE_WEBHOOK_SECRET", value)
        for secret in secrets:
            if is_placeholder(secret):
                raise ValueError("STRIPE_WEBHOOK_SECRET holds a placeholder, not a real secret")
            if not secret.startswith(SECRET_PREFIX):
                raise ValueError("STRIPE_WEBHOOK_SECRET must be Stripe's endpoint secret, "
                                 f"which starts {SECRET_PREFIX}")
            check_secret("STRIPE_WEBHOOK_SECRET", secret, min_length=MIN_SECRET_LENGTH,
                         why="whsec_ and Stripe's 32 characters")
        return ",".join(secrets)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple((self.STRIPE_WEBHOOK_SECRET or "").split(","))


def build(own: Settings, settings: GatewaySettings) -> StripeProvider:
    return StripeProvider(own.secrets, settings.SIGNATURE_TOLERANCE_SECONDS)


class StripeObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object: str = Field(min_length=1)
    # Optional on purpose: legacy dispute payloads (charge.dispute.closed/updated in the
    # shared fixtures) carry no data.object.id, and the gateway keys everything on the
    # event id, so a missing object id is the normalizer's concern, not a reason to refuse.
    id: str | None = None


class StripeEventData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object: StripeObject


class StripeEvent(BaseModel):
    """The structure the gateway needs to key and route an event; semantics are downstream."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=255)
    data: StripeEventData


def route_stripe_event(event_type: str) -> str | None:
    """The raw topic for a Stripe event type, or None when the gateway has no route
    (the contract's ``STRIPE_TOPIC_ROUTES``, which reconciliation routes by too)."""
    return stripe_raw_topic(event_type)


def parse_signature_header(header: str | None) -> tuple[int, list[str]]:
    """Split the header the way Stripe's library does, refusing what it would choke on."""
    if not header:
        raise SignatureError("signature_missing", "Stripe-Signature header is missing",
                             provider=PROVIDER)
    if not header.isascii():
        # hmac.compare_digest, under stripe's verifier, raises TypeError on non-ASCII text.
        raise _malformed("the header is not ASCII")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.partition("=")
        if key == "t" and timestamp is None:
            if not sep or not _TIMESTAMP.fullmatch(value):
                raise _malformed("the t= timestamp is not a whole number of seconds")
            timestamp = int(value)
        elif key == "v1":
            if not sep or not value or "=" in value:
                raise _malformed("a v1= entry has no value")
            signatures.append(value)
    if timestamp is None:
        raise _malformed("no t= timestamp")
    if not signatures:
        raise _malformed("no v1= signature")
    return timestamp, signatures


def _malformed(what: str) -> SignatureError:
    return SignatureError("signature_malformed", f"Stripe-Signature header: {what}",
                          provider=PROVIDER)


class StripeProvider:
    """Verifies Stripe webhooks against one or more secrets (several during a rotation)."""

    name = PROVIDER

    def __init__(self, secrets: tuple[str, ...], tolerance_seconds: int) -> None:
        if not secrets:
            raise ValueError("at least one Stripe webhook secret is required")
        self._secrets = secrets
        self._tolerance = tolerance_seconds

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> tuple[VerifiedEvent, ...]:
        self.verify_signature(raw, headers.get(SIGNATURE_HEADER))
        event = parse_stripe_event(raw)
        topic = route_stripe_event(event.type)
        if topic is None:
            raise InvalidEventError("unknown_event_type",
                                    f"no route for Stripe event type {event.type!r}",
                                    event_id=event.id)
        return (VerifiedEvent(PROVIDER, event.id, event.type, topic, raw),)

    def verify_signature(self, raw: bytes, header: str | None, now: float | None = None) -> None:
        timestamp, _ = parse_signature_header(header)
        try:
            # The stripe library decodes bytes itself and would raise UnicodeDecodeError.
            payload = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedBodyError("body_not_utf8", "body is not valid UTF-8",
                                     provider=PROVIDER) from None
        if not any(self._matches(payload, header, secret) for secret in self._secrets):
            raise SignatureError("signature_mismatch",
                                 "no v1 signature matches the body for any configured secret",
                                 provider=PROVIDER)
        # Stripe's verifier only rejects old timestamps; a far-future one could be replayed
        # for as long as it stays in the future, so both sides are bounded here.
        now = time.time() if now is None else now
        if timestamp < now - self._tolerance:
            raise SignatureError("timestamp_expired",
                                 f"signature timestamp is older than {self._tolerance} s",
                                 provider=PROVIDER)
        if timestamp > now + self._tolerance:
            raise SignatureError("timestamp_in_future",
                                 f"signature timestamp is more than {self._tolerance} s ahead",
                                 provider=PROVIDER)

    @staticmethod
    def _matches(payload: str, header: str | None, secret: str) -> bool:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            return False
        return True


def parse_stripe_event(raw: bytes) -> StripeEvent:
    """Validate the structure of an authentic body; not JSON is a 400, bad shape a DLQ."""
    return parse_json_event(StripeEvent, raw, provider=PROVIDER, id_field="id")
