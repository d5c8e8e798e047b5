"""The provider plug-in seam: one module per provider, registered here and nowhere else.

A provider module holds a class that satisfies ``Provider``; its factory goes into
``PROVIDER_FACTORIES``; ``GATEWAY_PROVIDERS`` picks which factories run. The intake,
publisher and metrics stay as they are.

Beyond ``verify`` a provider may declare two optional class attributes, read with defaults
so that Stripe's module needs neither:

- ``media_type``: the Content-Type its webhooks arrive with (default ``application/json``);
- ``acknowledgement``: ``(content_type, body)`` sent instead of the JSON answer when a
  request is stored (Adyen insists on the literal ``[accepted]``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gateway.settings import GatewaySettings

JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class VerifiedEvent:
    """One authentic, routable event: where it goes and under which key."""

    provider: str
    event_id: str
    event_type: str
    topic: str
    value: bytes  # what lands on the topic: the body exactly as received (Adyen: one item)


@dataclass(frozen=True, slots=True)
class InvalidItem:
    """One authentic item of a batch that cannot be routed: dead-lettered on its own."""

    reason: str
    detail: str
    event_id: str | None
    value: bytes


@dataclass(frozen=True, slots=True)
class RefusedItem:
    """One item of a batch that failed its own signature: counted and logged, never written."""

    reason: str
    detail: str
    event_id: str | None


Outcome = VerifiedEvent | InvalidItem | RefusedItem


class Provider(Protocol):
    name: str

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> tuple[Outcome, ...]:
        """Authenticate and route one request body.

        Raises ``SignatureError`` when the request is not authentic, ``MalformedBodyError``
        when it is authentic but not parseable, and ``InvalidEventError`` when it is
        authentic but cannot be routed (to be dead-lettered). A batch provider (Adyen)
        instead returns one outcome per item, so that a bad item never sinks its siblings.
        ``headers`` looks keys up case-insensitively (Starlette's ``Headers``).
        """
        ...


def media_type_of(provider: Provider) -> str:
    return getattr(provider, "media_type", JSON_MEDIA_TYPE)


def acknowledgement_of(provider: Provider) -> tuple[str, bytes] | None:
    return getattr(provider, "acknowledgement", None)


ProviderFactory = Callable[["GatewaySettings"], Provider]


# Each factory imports its SDK lazily: a gateway that serves only Stripe never pays for
# importing braintree or Adyen (about a second each).
def _stripe(settings: GatewaySettings) -> Provider:
    from gateway.providers.stripe import StripeProvider

    return StripeProvider(settings.stripe_secrets, settings.SIGNATURE_TOLERANCE_SECONDS)


def _adyen(settings: GatewaySettings) -> Provider:
    from gateway.providers.adyen import AdyenProvider

    return AdyenProvider(settings.ADYEN_HMAC_KEY, settings.ADYEN_BASIC_AUTH_USERNAME,
                         settings.ADYEN_BASIC_AUTH_PASSWORD, max_items=settings.ADYEN_MAX_ITEMS)


def _braintree(settings: GatewaySettings) -> Provider:
    from gateway.providers.braintree import BraintreeProvider

    return BraintreeProvider(settings.BRAINTREE_MERCHANT_ID, settings.BRAINTREE_PUBLIC_KEY,
                             settings.BRAINTREE_PRIVATE_KEY)


def _square(settings: GatewaySettings) -> Provider:
    from gateway.providers.square import SquareProvider

    return SquareProvider(settings.SQUARE_SIGNATURE_KEY, settings.SQUARE_NOTIFICATION_URL)


PROVIDER_FACTORIES: dict[str, ProviderFactory] = {
    "stripe": _stripe,
    "adyen": _adyen,
    "braintree": _braintree,
    "square": _square,
}


def build_providers(settings: GatewaySettings) -> dict[str, Provider]:
    """The enabled providers only: a disabled one answers 404 like any unknown name."""
    return {name: PROVIDER_FACTORIES[name](settings) for name in settings.enabled_providers}


__all__ = [
    "JSON_MEDIA_TYPE",
    "PROVIDER_FACTORIES",
    "InvalidItem",
    "Outcome",
    "Provider",
    "RefusedItem",
    "VerifiedEvent",
    "acknowledgement_of",
    "build_providers",
    "media_type_of",
]
