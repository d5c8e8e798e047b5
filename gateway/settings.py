"""Configuration for the gateway, read from the environment once, in the entry module.

Environment variables:

- ``GATEWAY_PROVIDERS``: the comma-separated providers to serve, default ``stripe``; any
  of ``stripe``, ``adyen``, ``braintree``, ``square``. A provider that is not listed
  answers 404, and its settings are not required. An enabled provider whose settings are
  missing stops startup naming each one.
- ``STRIPE_WEBHOOK_SECRET`` (required for stripe): one or more comma-separated Stripe
  signing secrets (``whsec_...``). Several are accepted during a rotation; each is tried.
- ``ADYEN_HMAC_KEY`` (hex), ``ADYEN_BASIC_AUTH_USERNAME``, ``ADYEN_BASIC_AUTH_PASSWORD``
  (required for adyen): the webhook's HMAC key and the endpoint's HTTP Basic credentials.
- ``BRAINTREE_MERCHANT_ID``, ``BRAINTREE_PUBLIC_KEY``, ``BRAINTREE_PRIVATE_KEY``
  (required for braintree): the API key pair the webhooks are signed with.
- ``SQUARE_SIGNATURE_KEY``, ``SQUARE_NOTIFICATION_URL`` (required for square): the
  subscription's signature key and its notification URL exactly as registered with
  Square (the signature covers it, and a proxy may change the URL the gateway sees).
- ``KAFKA_BOOTSTRAP_SERVERS``: the broker list, default ``127.0.0.1:9092``.
- ``GATEWAY_SIGNATURE_TOLERANCE_SECONDS``: how far a signature timestamp may lie in the
  past or the future, default 300 (Stripe's own default).
- ``GATEWAY_MAX_BODY_BYTES``: the largest body accepted, default and maximum
  ``contracts.limits.MAX_VALUE_BYTES`` (1,046,912: the 1 MiB record budget less the
  largest key, headers and framing), so that every body accepted is a record the broker
  accepts. It may be lowered; a value above the maximum stops startup.
- ``GATEWAY_ADYEN_MAX_ITEMS``: the most notification items one Adyen request may carry,
  default 100; a request with more is refused whole (413 ``too_many_items``) before any
  item is verified.
- ``GATEWAY_PUBLISH_TIMEOUT_SECONDS``: how long a webhook waits for the broker's
  acknowledgement before the gateway answers 503, default 5.
- ``GATEWAY_CONNECT_RETRY_SECONDS``: pause between attempts to reach the broker while it is
  unreachable, default 1.
- ``GATEWAY_READY_TIMEOUT_SECONDS`` / ``GATEWAY_READY_CACHE_SECONDS``: the readiness probe's
  metadata fetch bound (default 2) and how long its answer is reused (default 1).
- ``GATEWAY_LINGER_MS``: the producer's batching delay, default 0. aiokafka keeps one
  produce request in flight per broker and gathers everything that arrives meanwhile into
  the next one, so webhooks batch without a linger; a linger only adds its delay to every
  acknowledgement (measured: 16 concurrent publishes ran at a third of the rate with 2 ms).
- ``GATEWAY_TOPIC_PREFIX``: prepended to every topic the gateway writes, default empty.
  Lets a benchmark or a second environment share a broker without feeding the pipeline.
- ``GATEWAY_LOG_LEVEL``: default INFO.
- ``GATEWAY_BENCH_ENDPOINT``: when true, adds ``POST /bench/bare`` (a bare 200 from the
  raw-ASGI intake) and ``POST /bench/bare-route`` (a bare 200 through FastAPI's router),
  the baselines of ``bench/gateway.py``. Off by default.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.limits import MAX_VALUE_BYTES
from contracts.providers import CREDENTIAL_SETTINGS, PROVIDER_NAMES

# Values copied from docs or templates that must never reach production.
_PLACEHOLDERS = frozenset({"changeme", "change-me", "whsec_...", "whsec_xxx", "secret", "todo"})
# .env.example's values say "replace_me"; copying the file unedited must not start a gateway.
_PLACEHOLDER_MARK = "replace_me"


def is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return lowered in _PLACEHOLDERS or _PLACEHOLDER_MARK in lowered
_HEX_KEY = re.compile(r"(?:[0-9a-fA-F]{2})+")
KNOWN_PROVIDERS = PROVIDER_NAMES
# The settings each provider cannot run without, checked only when it is enabled.
_REQUIRED = {provider.value: names for provider, names in CREDENTIAL_SETTINGS.items()}
_PROVIDER_SETTINGS = tuple(name for names in _REQUIRED.values() for name in names
                           if name != "STRIPE_WEBHOOK_SECRET")


class GatewayConfigError(SystemExit):
    """Bad configuration: stops the process with a message naming the setting."""


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    PROVIDERS: str = "stripe"
    STRIPE_WEBHOOK_SECRET: str | None = Field(default=None,
                                              validation_alias="STRIPE_WEBHOOK_SECRET")
    ADYEN_HMAC_KEY: str | None = Field(default=None, validation_alias="ADYEN_HMAC_KEY")
    ADYEN_BASIC_AUTH_USERNAME: str | None = Field(default=None,
                                                  validation_alias="ADYEN_BASIC_AUTH_USERNAME")
    ADYEN_BASIC_AUTH_PASSWORD: str | None = Field(default=None,
                                                  validation_alias="ADYEN_BASIC_AUTH_PASSWORD")
    BRAINTREE_MERCHANT_ID: str | None = Field(default=None,
                                              validation_alias="BRAINTREE_MERCHANT_ID")
    BRAINTREE_PUBLIC_KEY: str | None = Field(default=None, validation_alias="BRAINTREE_PUBLIC_KEY")
    BRAINTREE_PRIVATE_KEY: str | None = Field(default=None,
                                              validation_alias="BRAINTREE_PRIVATE_KEY")
    SQUARE_SIGNATURE_KEY: str | None = Field(default=None, validation_alias="SQUARE_SIGNATURE_KEY")
    SQUARE_NOTIFICATION_URL: str | None = Field(default=None,
                                                validation_alias="SQUARE_NOTIFICATION_URL")
    KAFKA_BOOTSTRAP_SERVERS: str = Field(
        default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    SIGNATURE_TOLERANCE_SECONDS: int = Field(default=300, gt=0)
    MAX_BODY_BYTES: int = Field(default=MAX_VALUE_BYTES, gt=0)
    ADYEN_MAX_ITEMS: int = Field(default=100, gt=0)
    PUBLISH_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0)
    CONNECT_RETRY_SECONDS: float = Field(default=1.0, gt=0)
    READY_TIMEOUT_SECONDS: float = Field(default=2.0, gt=0)
    READY_CACHE_SECONDS: float = Field(default=1.0, ge=0)
    LINGER_MS: int = Field(default=0, ge=0)
    TOPIC_PREFIX: str = ""
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    BENCH_ENDPOINT: bool = False

    @field_validator("STRIPE_WEBHOOK_SECRET")
    @classmethod
    def refuse_empty_secrets(cls, value: str | None) -> str | None:
        if value is None:
            return None  # required only when stripe is enabled; checked below
        secrets = [part.strip() for part in value.split(",")]
        if not any(secrets):
            raise ValueError("STRIPE_WEBHOOK_SECRET must hold at least one signing secret")
        if any(not part for part in secrets):
            raise ValueError("STRIPE_WEBHOOK_SECRET has an empty entry between commas")
        if any(is_placeholder(part) for part in secrets):
            raise ValueError("STRIPE_WEBHOOK_SECRET holds a placeholder, not a real secret")
        return ",".join(secrets)

    @field_validator("MAX_BODY_BYTES")
    @classmethod
    def refuse_bodies_larger_than_a_record(cls, value: int) -> int:
        if value > MAX_VALUE_BYTES:
            raise ValueError(f"GATEWAY_MAX_BODY_BYTES={value} is above {MAX_VALUE_BYTES}, the "
                             f"largest value a Kafka record may carry (contracts/limits.py)")
        return value

    @field_validator("PROVIDERS")
    @classmethod
    def refuse_unknown_providers(cls, value: str) -> str:
        names = [part.strip().lower() for part in value.split(",")]
        if not all(names):
            raise ValueError("GATEWAY_PROVIDERS must list providers separated by single commas")
        unknown = sorted(set(names) - set(KNOWN_PROVIDERS))
        if unknown:
            raise ValueError(f"GATEWAY_PROVIDERS names unknown providers {unknown}; "
                             f"known: {', '.join(KNOWN_PROVIDERS)}")
        if len(set(names)) != len(names):
            raise ValueError("GATEWAY_PROVIDERS lists a provider twice")
        return ",".join(names)

    @field_validator(*_PROVIDER_SETTINGS)
    @classmethod
    def strip_provider_setting(cls, value: str | None) -> str | None:
        # An empty variable is the same mistake as an absent one.
        if value is None:
            return None
        return value.strip() or None

    @model_validator(mode="after")
    def require_enabled_provider_settings(self) -> GatewaySettings:
        problems: list[str] = []
        for provider in self.enabled_providers:
            for name in _REQUIRED[provider]:
                value = getattr(self, name)
                if value is None:
                    problems.append(f"{name} is required because GATEWAY_PROVIDERS "
                                    f"enables {provider}")
                elif is_placeholder(value):
                    problems.append(f"{name} holds a placeholder, not a real secret")
        if "adyen" in self.enabled_providers and self.ADYEN_HMAC_KEY is not None:
            if not _is_hex_key(self.ADYEN_HMAC_KEY):
                problems.append("ADYEN_HMAC_KEY must be the hex key Adyen shows "
                                "(an even number of 0-9a-f digits)")
        if "square" in self.enabled_providers and self.SQUARE_NOTIFICATION_URL is not None:
            if not self.SQUARE_NOTIFICATION_URL.startswith(("https://", "http://")):
                problems.append("SQUARE_NOTIFICATION_URL must be the full http(s) URL "
                                "registered with Square")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("KAFKA_BOOTSTRAP_SERVERS")
    @classmethod
    def refuse_empty_bootstrap(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("KAFKA_BOOTSTRAP_SERVERS must name at least one broker")
        return value.strip()

    @property
    def enabled_providers(self) -> tuple[str, ...]:
        return tuple(self.PROVIDERS.split(","))

    @property
    def stripe_secrets(self) -> tuple[str, ...]:
        return tuple((self.STRIPE_WEBHOOK_SECRET or "").split(","))


def _is_hex_key(value: str) -> bool:
    return _HEX_KEY.fullmatch(value) is not None


def load_settings(**overrides: object) -> GatewaySettings:
    """Read the settings, turning a validation error into an exit that names each setting."""
    try:
        return GatewaySettings(**overrides)
    except ValidationError as exc:
        # Whole-model errors have no location; their message names the settings itself.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            if error["loc"] else error["msg"].removeprefix("Value error, ")
            for error in exc.errors()
        )
        raise GatewayConfigError(f"gateway: invalid configuration: {problems}") from None
