"""Square: the signature header checked by the official squareup SDK, routing by ``type``.

The scheme (https://developer.squareup.com/docs/webhooks/step3validate): the
``x-square-hmacsha256-signature`` header is the base64 HMAC-SHA256, keyed by the
subscription's signature key, over the notification URL as registered with Square followed
by the raw body. The check is ``square.utils.webhooks_helper.verify_signature``.

What lands on Kafka:

- key: the payload's ``event_id`` (Square's unique id for the event; its retries reuse it);
- value: the body exactly as received;
- topic by ``type``: ``payment.*`` -> ``webhooks.square.payment``, ``refund.*`` ->
  ``webhooks.square.refund``; any other type is authentic but unroutable (dead-lettered);
- header ``event_type``: the ``type``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator
from square.utils.webhooks_helper import verify_signature

from contracts.providers import Provider
from contracts.topics import SQUARE_PAYMENT, SQUARE_REFUND
from gateway.errors import InvalidEventError, MalformedBodyError, SignatureError
from gateway.providers import Credential, Outcome, ProviderSettings, VerifiedEvent
from gateway.providers._secrets import check_keys
from gateway.providers._structure import parse_json_event, route_by_prefix

if TYPE_CHECKING:
    from gateway.settings import GatewaySettings

PROVIDER = Provider.SQUARE.value
SIGNATURE_HEADER = "x-square-hmacsha256-signature"
_ROUTES: tuple[tuple[str, str], ...] = (("payment.", SQUARE_PAYMENT), ("refund.", SQUARE_REFUND))


# Square's signature keys are 16+ random bytes in URL-safe base64: 22 characters or more.
MIN_SIGNATURE_KEY_LENGTH = 22


class Settings(ProviderSettings):
    """``SQUARE_SIGNATURE_KEY``, ``SQUARE_NOTIFICATION_URL``: the subscription's signature key
    (22+ characters; several comma-separated while one is rotated, each tried) and its
    notification URL exactly as registered with Square (the signature covers it, and a
    proxy may change the URL the gateway sees)."""

    SQUARE_SIGNATURE_KEY: Credential = Field(default=None, validation_alias="SQUARE_SIGNATURE_KEY")
    SQUARE_NOTIFICATION_URL: Credential = Field(default=None,
                                                validation_alias="SQUARE_NOTIFICATION_URL")

    @field_validator("SQUARE_SIGNATURE_KEY")
    @classmethod
    def refuse_weak_signature_keys(cls, value: str | None) -> str | None:
        if value is None:
            return None  # required, as every credential: gateway.settings says so
        return check_keys("SQUARE_SIGNATURE_KEY", value, min_length=MIN_SIGNATURE_KEY_LENGTH,
                          why="Square's keys are 16+ bytes of URL-safe base64")

    @field_validator("SQUARE_NOTIFICATION_URL")
    @classmethod
    def refuse_relative_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("SQUARE_NOTIFICATION_URL must be the full http(s) URL registered "
                             "with Square")
        return value

    @property
    def signature_keys(self) -> tuple[str, ...]:
        return tuple((self.SQUARE_SIGNATURE_KEY or "").split(","))


def build(own: Settings, settings: GatewaySettings) -> SquareProvider:
    return SquareProvider(own.signature_keys, own.SQUARE_NOTIFICATION_URL)


class SquareEvent(BaseModel):
    """The structure the gateway needs to key and route an event; semantics are downstream."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=255)
    data: dict


def route_square_event(event_type: str) -> str | None:
    """The raw topic for a Square event type, or None when the gateway has no route."""
    return route_by_prefix(_ROUTES, event_type)


class SquareProvider:
    """Verifies Square webhooks for one subscription (signature key + notification URL)."""

    name = PROVIDER

    def __init__(self, signature_keys: str | Sequence[str] | None,
                 notification_url: str | None) -> None:
        keys = ((signature_keys,) if isinstance(signature_keys, str)
                else tuple(signature_keys or ()))
        if not (keys and all(keys) and notification_url):
            raise ValueError("Square needs a signature key and the notification URL")
        self._keys = keys
        self._url = notification_url

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> tuple[Outcome, ...]:
        self.verify_signature(raw, headers.get(SIGNATURE_HEADER))
        event = parse_square_event(raw)
        topic = route_square_event(event.type)
        if topic is None:
            raise InvalidEventError("unknown_event_type",
                                    f"no route for Square event type {event.type!r}",
                                    event_id=event.event_id)
        return (VerifiedEvent(PROVIDER, event.event_id, event.type, topic, raw),)

    def verify_signature(self, raw: bytes, header: str | None) -> None:
        if not header:
            raise SignatureError("signature_missing", f"{SIGNATURE_HEADER} header is missing",
                                 provider=PROVIDER)
        try:
            # The SDK signs text; the body must decode exactly for the HMAC to cover it.
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedBodyError("body_not_utf8", "body is not valid UTF-8",
                                     provider=PROVIDER) from None
        # Each key in turn (several during a rotation); the SDK does the comparing.
        if not any(verify_signature(request_body=body, signature_header=header,
                                    signature_key=key, notification_url=self._url)
                   for key in self._keys):
            raise SignatureError("signature_mismatch",
                                 "the signature does not match the notification URL and body "
                                 "for any configured key", provider=PROVIDER)


def parse_square_event(raw: bytes) -> SquareEvent:
    """Validate the structure of an authentic body; not JSON is a 400, bad shape a DLQ."""
    return parse_json_event(SquareEvent, raw, provider=PROVIDER, id_field="event_id")
