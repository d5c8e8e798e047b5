"""The settings of the two database steps: `python -m infra.roles` and `python -m infra.migrate`.

Read from the environment (compose's ``db-roles`` and ``migrate`` services) or, on the local
stack, passed from ``.stack/env``. A missing, password-less or placeholder value stops the
step naming the setting; the message never quotes the value.
"""

from __future__ import annotations

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.postgres import check_dsn, check_password
from infra.roles import ADMIN, ROLES


class RolesSettings(BaseSettings):
    """The admin's DSN and every other role's password."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    POSTGRES_ADMIN_DSN: str
    POSTGRES_OWNER_PASSWORD: str
    POSTGRES_WORKER_PASSWORD: str
    POSTGRES_BATCH_PASSWORD: str
    POSTGRES_REVIEWER_PASSWORD: str
    POSTGRES_READER_PASSWORD: str
    POSTGRES_ERASER_PASSWORD: str

    @field_validator("POSTGRES_ADMIN_DSN")
    @classmethod
    def _dsn(cls, value: str) -> str:
        return check_dsn("POSTGRES_ADMIN_DSN", value)

    @field_validator("*")
    @classmethod
    def _password(cls, value: str, info) -> str:
        if info.field_name.endswith("_PASSWORD"):
            check_password(info.field_name, value)
        return value

    def passwords(self) -> dict[str, str]:
        """Each role's password setting -> its value; the admin's is the DSN's."""
        from urllib.parse import unquote, urlsplit

        admin = unquote(urlsplit(self.POSTGRES_ADMIN_DSN).password or "")
        return {ADMIN.password: admin,
                **{r.password: getattr(self, r.password) for r in ROLES if r is not ADMIN}}


class MigrateSettings(BaseSettings):
    """The owner's DSN: migrations create and alter tables, so only the owner runs them."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    POSTGRES_DSN: str = Field(validation_alias="MIGRATE_POSTGRES_DSN")

    @field_validator("POSTGRES_DSN")
    @classmethod
    def _dsn(cls, value: str) -> str:
        return check_dsn("MIGRATE_POSTGRES_DSN", value)


def invalid(err: ValidationError) -> str:
    """The settings a ValidationError is about, each with why (never the value)."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '?'}: {e['msg']}" for e in err.errors())


__all__ = ["MigrateSettings", "RolesSettings", "invalid"]
