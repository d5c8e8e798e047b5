"""The provider plug-in seam: one module per provider, registered here and nowhere else.

Adding Adyen, Braintree or Square means writing ``gateway/providers/<name>.py`` with a
class that satisfies ``Provider`` and adding its factory to ``PROVIDER_FACTORIES``; the
routes, publisher and metrics stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gateway.settings import GatewaySettings


@dataclass(frozen=True, slots=True)
class VerifiedEvent:
    """One authentic, routable event: where it goes and under which key."""

    provider: str
    event_id: str
    event_type: str
    topic: str
    value: bytes  # what lands on the topic: the body exactly as received


class Provider(Protocol):
    name: str

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> tuple[VerifiedEvent, ...]:
        """Authenticate and route one request body.

        Raises ``SignatureError`` when the request is not authentic, ``MalformedBodyError``
        when it is authentic but not JSON, and ``InvalidEventError`` when it is authentic
        but cannot be routed (to be dead-lettered). ``headers`` looks keys up
        case-insensitively (Starlette's ``Headers``).
        """
        ...


ProviderFactory = Callable[["GatewaySettings"], Provider]


def _stripe(settings: GatewaySettings) -> Provider:
    from gateway.providers.stripe import StripeProvider

    return StripeProvider(settings.stripe_secrets, settings.SIGNATURE_TOLERANCE_SECONDS)


PROVIDER_FACTORIES: dict[str, ProviderFactory] = {"stripe": _stripe}


def build_providers(settings: GatewaySettings) -> dict[str, Provider]:
    return {name: factory(settings) for name, factory in PROVIDER_FACTORIES.items()}


__all__ = ["PROVIDER_FACTORIES", "Provider", "VerifiedEvent", "build_providers"]
