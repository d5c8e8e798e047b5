"""ERASURE_* settings: the eraser role's DSN and, for a job, a configured identity.

The lake is reached through the catalog the batch assets use (BATCH_CATALOG_URI and the
warehouse, batch.settings): the batch role owns the Iceberg catalog's tables. A missing or
malformed value stops the command naming the setting, never quoting it.
"""

from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from batch.settings import BatchConfigError
from contracts.postgres import check_dsn

ENV_PREFIX = "ERASURE_"


class ErasureSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore",
                                      hide_input_in_errors=True)

    # The payments_eraser role (infra/roles.py): DELETE on the event tables, nothing more.
    POSTGRES_DSN: str = ""
    # Who the audit names instead of the OS account (an automated job's name).
    IDENTITY: str | None = None

    @field_validator("POSTGRES_DSN")
    @classmethod
    def _dsn(cls, value: str) -> str:
        return check_dsn(f"{ENV_PREFIX}POSTGRES_DSN", value) if value else value

    def postgres_dsn(self) -> str:
        if not self.POSTGRES_DSN:
            raise BatchConfigError(f"{ENV_PREFIX}POSTGRES_DSN", "the eraser role's DSN")
        return self.POSTGRES_DSN
