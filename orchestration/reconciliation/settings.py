"""Configuration of ``python -m orchestration.reconcile``, from the environment.

The names are the ones the rest of the pipeline already uses for the same things:
``KAFKA_BOOTSTRAP_SERVERS`` (gateway, streams) and ``ORCHESTRATOR_READER_POSTGRES_DSN``
(the operators' read-only role, as trace and replay read it); the provider's API
credentials are ``STRIPE_API_KEY`` and, for a test server such as stripe-mock,
``STRIPE_API_BASE``.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.postgres import check_dsn
from orchestration.kafka_sign_in import OperatorKafkaSignIn

__all__ = ["ReconcileSettings", "SettingMissingError"]

_PLACEHOLDERS = ("changeme", "change-me", "xxx", "placeholder", "your_", "<")


class SettingMissingError(Exception):
    """A setting the chosen provider needs is not set; ``setting`` names it."""

    def __init__(self, setting: str, why: str) -> None:
        super().__init__(f"{setting} is not set: {why}")
        self.setting = setting


class ReconcileSettings(BaseSettings, OperatorKafkaSignIn):
    model_config = SettingsConfigDict(env_prefix="RECONCILE_", extra="ignore",
                                      populate_by_name=True, hide_input_in_errors=True)

    KAFKA_BOOTSTRAP_SERVERS: str = Field(
        "127.0.0.1:9092", min_length=1,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS",
                                      "RECONCILE_KAFKA_BOOTSTRAP_SERVERS"))
    POSTGRES_DSN: str = Field(validation_alias=AliasChoices(
        "ORCHESTRATOR_READER_POSTGRES_DSN", "RECONCILE_POSTGRES_DSN"))
    # A secret (sk_...) or restricted (rk_...) key that may read events.
    STRIPE_API_KEY: SecretStr | None = Field(None, validation_alias="STRIPE_API_KEY")
    # Stripe's API unless set: stripe-mock is e.g. http://127.0.0.1:12111.
    STRIPE_API_BASE: str | None = Field(None, validation_alias="STRIPE_API_BASE")
    # The API version to render events in; set it to the webhook endpoint's version so a
    # fed event maps as its webhook would. Unset: the SDK's own pinned version.
    STRIPE_API_VERSION: str | None = Field(None, validation_alias="STRIPE_API_VERSION")
    # Listed events asked about (and fed) per batch.
    BATCH_SIZE: int = Field(500, ge=1, le=5000)

    @field_validator("POSTGRES_DSN")
    @classmethod
    def refuse_unusable_dsns(cls, value: str) -> str:
        return check_dsn("ORCHESTRATOR_READER_POSTGRES_DSN", value)

    @field_validator("STRIPE_API_KEY")
    @classmethod
    def refuse_unusable_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        key = value.get_secret_value().strip()
        if any(marker in key.lower() for marker in _PLACEHOLDERS):
            raise ValueError("STRIPE_API_KEY holds a placeholder, not a key")
        if not key.startswith(("sk_", "rk_")):
            raise ValueError("STRIPE_API_KEY must be a secret (sk_...) or restricted (rk_...) "
                             "key")
        return SecretStr(key)

    @field_validator("STRIPE_API_BASE")
    @classmethod
    def refuse_bad_bases(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("STRIPE_API_BASE must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    def stripe_api_key(self) -> str:
        if self.STRIPE_API_KEY is None:
            raise SettingMissingError("STRIPE_API_KEY", "reconciling Stripe lists its events "
                                      "with a secret or restricted key")
        return self.STRIPE_API_KEY.get_secret_value()
