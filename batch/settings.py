"""Batch settings, read from BATCH_* environment variables when a resource is first used."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_state_dir() -> Path:
    # The same folder infra.stack uses, without importing it: batch must not depend on infra.
    return Path(os.environ.get("STACK_DIR", REPO_ROOT / ".stack")).resolve()


class BatchSettings(BaseSettings):
    """Where the lakehouse and its source live; compose points these at REST and S3/MinIO."""

    model_config = SettingsConfigDict(env_prefix="BATCH_")

    CATALOG_NAME: str = "lakehouse"
    # "sql" keeps the catalog tables in PostgreSQL; "rest" talks to a REST catalog.
    CATALOG_TYPE: str = "sql"
    CATALOG_URI: str = "postgresql+psycopg2://payments@127.0.0.1:55432/payments"
    WAREHOUSE: str = ""
    # Extra PyIceberg catalog properties as JSON, e.g. {"s3.endpoint": "http://minio:9000"}.
    CATALOG_PROPERTIES: dict[str, str] = {}
    POSTGRES_DSN: str = "postgresql://payments@127.0.0.1:55432/payments"

    def warehouse_uri(self) -> str:
        if self.WAREHOUSE:
            return self.WAREHOUSE
        return (default_state_dir() / "warehouse").as_uri()
