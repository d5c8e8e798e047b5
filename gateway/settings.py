"""Configuration for the gateway, read from the environment once, in the entry module.

Environment variables:

- ``STRIPE_WEBHOOK_SECRET`` (required): one or more comma-separated Stripe signing
  secrets (``whsec_...``). Several are accepted during a rotation; each is tried.
- ``KAFKA_BOOTSTRAP_SERVERS``: the broker list, default ``127.0.0.1:9092``.
- ``GATEWAY_SIGNATURE_TOLERANCE_SECONDS``: how far a signature timestamp may lie in the
  past or the future, default 300 (Stripe's own default).
- ``GATEWAY_MAX_BODY_BYTES``: the largest body accepted, default 1 MiB.
- ``GATEWAY_PUBLISH_TIMEOUT_SECONDS``: how long a webhook waits for the broker's
  acknowledgement before the gateway answers 503, default 5.
- ``GATEWAY_CONNECT_RETRY_SECONDS``: pause between attempts to reach the broker while it is
  unreachable, default 1.
- ``GATEWAY_READY_TIMEOUT_SECONDS`` / ``GATEWAY_READY_CACHE_SECONDS``: the readiness probe's
  metadata fetch bound (default 2) and how long its answer is reused (default 1).
- ``GATEWAY_LINGER_MS``: the producer's batching delay, default 2.
- ``GATEWAY_LOG_LEVEL``: default INFO.
- ``GATEWAY_BENCH_ENDPOINT``: when true, adds ``POST /bench/bare`` (a bare 200), the
  baseline of ``bench/gateway.py``. Off by default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values copied from docs or templates that must never reach production.
_PLACEHOLDERS = frozenset({"changeme", "change-me", "whsec_...", "whsec_xxx", "secret", "todo"})


class GatewayConfigError(SystemExit):
    """Bad configuration: stops the process with a message naming the setting."""


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    STRIPE_WEBHOOK_SECRET: str = Field(validation_alias="STRIPE_WEBHOOK_SECRET")
    KAFKA_BOOTSTRAP_SERVERS: str = Field(
        default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    SIGNATURE_TOLERANCE_SECONDS: int = Field(default=300, gt=0)
    MAX_BODY_BYTES: int = Field(default=1024 * 1024, gt=0)
    PUBLISH_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0)
    CONNECT_RETRY_SECONDS: float = Field(default=1.0, gt=0)
    READY_TIMEOUT_SECONDS: float = Field(default=2.0, gt=0)
    READY_CACHE_SECONDS: float = Field(default=1.0, ge=0)
    LINGER_MS: int = Field(default=2, ge=0)
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    BENCH_ENDPOINT: bool = False

    @field_validator("STRIPE_WEBHOOK_SECRET")
    @classmethod
    def refuse_empty_secrets(cls, value: str) -> str:
        secrets = [part.strip() for part in value.split(",")]
        if not any(secrets):
            raise ValueError("STRIPE_WEBHOOK_SECRET must hold at least one signing secret")
        if any(not part for part in secrets):
            raise ValueError("STRIPE_WEBHOOK_SECRET has an empty entry between commas")
        if any(part.lower() in _PLACEHOLDERS for part in secrets):
            raise ValueError("STRIPE_WEBHOOK_SECRET holds a placeholder, not a real secret")
        return ",".join(secrets)

    @field_validator("KAFKA_BOOTSTRAP_SERVERS")
    @classmethod
    def refuse_empty_bootstrap(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("KAFKA_BOOTSTRAP_SERVERS must name at least one broker")
        return value.strip()

    @property
    def stripe_secrets(self) -> tuple[str, ...]:
        return tuple(self.STRIPE_WEBHOOK_SECRET.split(","))


def load_settings(**overrides: object) -> GatewaySettings:
    """Read the settings, turning a validation error into an exit that names each setting."""
    try:
        return GatewaySettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise GatewayConfigError(f"gateway: invalid configuration: {problems}") from None
