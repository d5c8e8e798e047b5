"""The provider plug-in seam: one module per provider, found by its name and nowhere else.

``gateway/providers/<name>.py``, for each name in ``contracts.providers.PROVIDER_NAMES``,
declares two things:

- ``Settings``: a ``ProviderSettings`` class with the provider's own settings. Its
  credentials are read under the names ``contracts.providers.CREDENTIAL_SETTINGS`` gives
  (no prefix: the simulator signs with the same variables), typed ``Credential``; anything
  else under ``GATEWAY_``. ``gateway.settings`` reads it only when the provider is enabled,
  and refuses to start when a credential is missing, blank or a placeholder, or when the
  class's own validators or ``problems()`` name one. Keys are checked by its validators
  with ``gateway.providers._secrets`` (placeholder, the provider's minimum length, a
  comma-separated list while a key is rotated);
- ``build(own, settings) -> Provider``: a class that satisfies ``Provider``, from its
  ``Settings`` and the gateway's.

``GATEWAY_PROVIDERS`` picks which modules are imported: each imports its SDK at the top, and
a gateway that serves only Stripe never pays for braintree or Adyen (about a second each).
The intake, publisher and metrics stay as they are.

Beyond ``verify`` a provider may declare two optional class attributes, read with defaults
so that Stripe's module needs neither:

- ``media_type``: the Content-Type its webhooks arrive with (default ``application/json``);
- ``acknowledgement``: ``(content_type, body)`` sent instead of the JSON answer when a
  request is stored (Adyen insists on the literal ``[accepted]``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Protocol

from pydantic import AfterValidator
from pydantic_settings import BaseSettings, SettingsConfigDict

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


def _blank_is_missing(value: str | None) -> str | None:
    # An empty variable is the same mistake as an absent one.
    return None if value is None else value.strip() or None


# A credential setting: optional to read, required (by gateway.settings) once enabled.
Credential = Annotated[str | None, AfterValidator(_blank_is_missing)]


class ProviderSettings(BaseSettings):
    """What a provider module's ``Settings`` derives from: the gateway's settings config
    (tuning under ``GATEWAY_``, credentials under their own name by ``validation_alias``)."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore",
                                      populate_by_name=True)

    def problems(self) -> list[str]:
        """What is wrong beyond a missing credential (a key in the wrong form, ...)."""
        return []


def provider_module(name: str) -> ModuleType:
    """``gateway.providers.<name>``, imported on first use (with its SDK)."""
    return importlib.import_module(f"{__name__}.{name}")


def build_providers(settings: GatewaySettings) -> dict[str, Provider]:
    """The enabled providers only: a disabled one answers 404 like any unknown name."""
    return {name: provider_module(name).build(settings.provider(name), settings)
            for name in settings.enabled_providers}


__all__ = [
    "JSON_MEDIA_TYPE",
    "Credential",
    "InvalidItem",
    "Outcome",
    "Provider",
    "ProviderSettings",
    "RefusedItem",
    "VerifiedEvent",
    "acknowledgement_of",
    "build_providers",
    "media_type_of",
    "provider_module",
]
