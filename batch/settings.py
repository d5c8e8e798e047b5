"""Batch settings, read from BATCH_* environment variables when a resource is first used.

Batch signs in to PostgreSQL as its own role (payments_batch: read-only on the event tables,
its own schema for the Iceberg SQL catalog), with ``BATCH_POSTGRES_DSN`` and, for the
catalog, ``BATCH_CATALOG_URI``. Neither has a default: a DSN without its password, or with
a placeholder one, is refused naming the setting (contracts/postgres.py), and so is one
missing when a resource needs it. Errors never echo a value, since DSNs hold passwords.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.postgres import check_catalog_uri, check_dsn

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_state_dir() -> Path:
    # The same folder infra.stack uses, without importing it: batch must not depend on infra.
    return Path(os.environ.get("STACK_DIR", REPO_ROOT / ".stack")).resolve()


class BatchSettings(BaseSettings):
    """Where the lakehouse and its source live; compose points these at REST and S3/MinIO."""

    model_config = SettingsConfigDict(env_prefix="BATCH_", hide_input_in_errors=True)

    CATALOG_NAME: str = "lakehouse"
    # "sql" keeps the catalog tables in PostgreSQL; "rest" talks to a REST catalog.
    CATALOG_TYPE: str = "sql"
    CATALOG_URI: str = ""
    WAREHOUSE: str = ""
    # Extra PyIceberg catalog properties as JSON, e.g. {"s3.endpoint": "http://minio:9000"}.
    CATALOG_PROPERTIES: dict[str, str] = {}
    POSTGRES_DSN: str = ""

    @field_validator("CATALOG_URI", "POSTGRES_DSN")
    @classmethod
    def _check(cls, value: str, info: ValidationInfo) -> str:
        name = f"BATCH_{info.field_name}"
        if not value.strip():
            return ""
        if info.field_name == "CATALOG_URI":
            return check_catalog_uri(name, value)
        return check_dsn(name, value)

    def catalog_uri(self) -> str:
        return self.CATALOG_URI or _missing("BATCH_CATALOG_URI", "the Iceberg catalog's URI")

    def postgres_dsn(self) -> str:
        return self.POSTGRES_DSN or _missing("BATCH_POSTGRES_DSN", "the batch role's DSN")

    def warehouse_uri(self) -> str:
        if self.WAREHOUSE:
            return self.WAREHOUSE
        return (default_state_dir() / "warehouse").as_uri()


class BatchConfigError(RuntimeError):
    """A setting batch needs is not set; ``setting`` names it."""

    def __init__(self, setting: str, what: str) -> None:
        super().__init__(f"{setting} is not set: {what} (.stack/env holds the local stack's)")
        self.setting = setting


def _missing(setting: str, what: str) -> str:
    raise BatchConfigError(setting, what)
