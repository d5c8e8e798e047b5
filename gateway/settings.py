"""Configuration for the gateway, read from the environment once, in the entry module.

Environment variables:

- ``GATEWAY_PROVIDERS``: the comma-separated providers to serve, default ``stripe``; any
  of ``contracts.providers.PROVIDER_NAMES`` (stripe, adyen, braintree, square). A provider
  that is not listed answers 404, and its settings are not read. An enabled provider's
  settings are declared by its module, ``gateway/providers/<name>.py`` (``Settings``): its
  credentials, named in ``contracts.providers.CREDENTIAL_SETTINGS``, and any ``GATEWAY_``
  tuning of its own. A missing, blank or placeholder credential, or a key shorter than its
  provider's keys are, stops startup naming each setting and the rule (see the gateway
  README, "Secrets and rotation").
- ``KAFKA_BOOTSTRAP_SERVERS``: the broker list, default ``127.0.0.1:9092``.
- ``GATEWAY_KAFKA_SASL_MECHANISM`` / ``GATEWAY_KAFKA_SASL_USERNAME`` /
  ``GATEWAY_KAFKA_SASL_PASSWORD``: the gateway's own Kafka principal (contracts/kafka_auth.py),
  the only one besides the operator's that may write the raw topics. Unset: no SASL; a
  mechanism without a username or password stops startup naming the setting.
- ``GATEWAY_SIGNATURE_TOLERANCE_SECONDS``: how far a signature timestamp may lie in the
  past or the future, default 300 (Stripe's own default).
- ``GATEWAY_MAX_BODY_BYTES``: the largest body accepted, default and maximum
  ``contracts.limits.MAX_VALUE_BYTES`` (1,046,912: the 1 MiB record budget less the
  largest key, headers and framing), so that every body accepted is a record the broker
  accepts. It may be lowered; a value above the maximum stops startup.
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
- ``GATEWAY_ADMIN_HOST`` / ``GATEWAY_ADMIN_PORT``: where the admin surface (``/docs``,
  ``/redoc``, ``/openapi.json``, ``/metrics``) listens, default ``127.0.0.1:8010``; the
  webhook port never serves it. Started by ``uvicorn gateway.app:app`` itself; 0 turns it
  off (one admin server per process: with ``--workers N`` only one could bind the port).
- ``GATEWAY_LOG_LEVEL``: default INFO.
- ``GATEWAY_BENCH_ENDPOINT``: when true, adds ``POST /bench/bare`` (a bare 200 from the
  raw-ASGI intake) and ``POST /bench/bare-route`` (a bare 200 through FastAPI's router),
  the baselines of ``bench/gateway.py``. Off by default.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import providers as contract
from contracts.kafka_auth import KafkaAuth, sign_in
from contracts.limits import MAX_VALUE_BYTES
from gateway.providers import ProviderSettings, provider_module
from gateway.providers._secrets import is_placeholder

__all__ = ["GatewayConfigError", "GatewaySettings", "describe", "is_placeholder",
           "load_settings"]

class GatewayConfigError(SystemExit):
    """Bad configuration: stops the process with a message naming the setting."""


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    PROVIDERS: str = "stripe"
    KAFKA_BOOTSTRAP_SERVERS: str = Field(
        default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    KAFKA_SASL_MECHANISM: str = ""
    KAFKA_SASL_USERNAME: str = ""
    KAFKA_SASL_PASSWORD: str = Field(default="", repr=False)
    SIGNATURE_TOLERANCE_SECONDS: int = Field(default=300, gt=0)
    MAX_BODY_BYTES: int = Field(default=MAX_VALUE_BYTES, gt=0)
    PUBLISH_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0)
    CONNECT_RETRY_SECONDS: float = Field(default=1.0, gt=0)
    READY_TIMEOUT_SECONDS: float = Field(default=2.0, gt=0)
    READY_CACHE_SECONDS: float = Field(default=1.0, ge=0)
    LINGER_MS: int = Field(default=0, ge=0)
    TOPIC_PREFIX: str = ""
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    BENCH_ENDPOINT: bool = False
    ADMIN_HOST: str = "127.0.0.1"
    ADMIN_PORT: int = Field(default=8010, ge=0, le=65535)
    # Each enabled provider's own settings (its module's Settings), read with the above.
    _providers: dict[str, ProviderSettings] = PrivateAttr(default_factory=dict)

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
        # Read at call time, so that contracts/providers.py alone says which exist.
        known = contract.PROVIDER_NAMES
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise ValueError(f"GATEWAY_PROVIDERS names unknown providers {unknown}; "
                             f"known: {', '.join(known)}")
        if len(set(names)) != len(names):
            raise ValueError("GATEWAY_PROVIDERS lists a provider twice")
        return ",".join(names)

    @model_validator(mode="wrap")
    @classmethod
    def read_enabled_provider_settings(cls, data: Any,
                                       handler: ValidatorFunctionWrapHandler) -> GatewaySettings:
        """Read each enabled provider's Settings: from the environment, or from the keyword
        arguments the gateway's settings were given under its names (tests, benches)."""
        settings = handler(data)
        given = data if isinstance(data, dict) else {}
        problems: list[str] = []
        for provider in settings.enabled_providers:
            declared: type[ProviderSettings] = provider_module(provider).Settings
            try:
                own = declared(**{name: value for name, value in given.items()
                                  if name in declared.model_fields})
            except ValidationError as exc:
                problems.append(describe(exc, declared))
                continue
            problems += _credential_problems(provider, own) + own.problems()
            settings._providers[provider] = own
        if problems:
            raise ValueError("; ".join(problems))
        return settings

    @model_validator(mode="after")
    def check_kafka_auth(self) -> GatewaySettings:
        self.kafka_auth()  # a ValueError names the setting
        return self

    def kafka_auth(self) -> KafkaAuth:
        """The gateway's Kafka sign-in (GATEWAY_KAFKA_SASL_*)."""
        return sign_in(self.KAFKA_SASL_MECHANISM, self.KAFKA_SASL_USERNAME,
                       self.KAFKA_SASL_PASSWORD, "GATEWAY_")

    @field_validator("ADMIN_HOST")
    @classmethod
    def refuse_empty_admin_host(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("GATEWAY_ADMIN_HOST must name an address (default 127.0.0.1)")
        return value.strip()

    @field_validator("KAFKA_BOOTSTRAP_SERVERS")
    @classmethod
    def refuse_empty_bootstrap(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("KAFKA_BOOTSTRAP_SERVERS must name at least one broker")
        return value.strip()

    @property
    def enabled_providers(self) -> tuple[str, ...]:
        return tuple(self.PROVIDERS.split(","))

    def provider(self, name: str) -> ProviderSettings:
        """An enabled provider's own settings (its module's ``Settings``)."""
        return self._providers[name]


def _credential_problems(provider: str, own: ProviderSettings) -> list[str]:
    """The credentials an enabled provider cannot run without (contracts.providers)."""
    problems: list[str] = []
    for name in contract.CREDENTIAL_SETTINGS[provider]:
        value = getattr(own, name)
        if value is None:
            problems.append(f"{name} is required because GATEWAY_PROVIDERS enables {provider}")
        elif is_placeholder(value):
            problems.append(f"{name} holds a placeholder, not a real secret")
    return problems


def describe(exc: ValidationError, model: type[BaseSettings] | None = None) -> str:
    """A validation error as one line naming each setting (by its environment name, when
    ``model`` says which settings carry its ``GATEWAY_`` prefix)."""
    return "; ".join(_describe_one(error, model) for error in exc.errors())


def _describe_one(error: Any, model: type[BaseSettings] | None) -> str:
    message = error["msg"].removeprefix("Value error, ")
    where = ".".join(str(part) for part in error["loc"])
    field = model.model_fields.get(where) if model is not None else None
    if field is not None and field.validation_alias is None:
        where = model.model_config.get("env_prefix", "") + where
    # Whole-model errors have no location, and the providers' rules name their setting.
    return message if not where or message.startswith(where) else f"{where}: {message}"


def load_settings(**overrides: object) -> GatewaySettings:
    """Read the settings, turning a validation error into an exit that names each setting."""
    try:
        return GatewaySettings(**overrides)
    except ValidationError as exc:
        raise GatewayConfigError(
            f"gateway: invalid configuration: {describe(exc, GatewaySettings)}") from None
