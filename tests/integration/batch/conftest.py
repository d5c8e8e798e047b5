"""A scratch PostgreSQL database with the migrations, and a per-test Iceberg catalog."""

from __future__ import annotations

import asyncio

import psycopg2
import pytest
from batch_lake import Lake

from batch.resources import AdbcPostgresResource, PyIcebergCatalogResource
from infra.migrate import migrate


@pytest.fixture
def lake(postgres_dsn, unique, tmp_path):
    name = f"scratch_batch_{unique}"
    admin = psycopg2.connect(postgres_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    dsn = postgres_dsn.rsplit("/", 1)[0] + f"/{name}"
    try:
        asyncio.run(migrate(dsn))
        yield Lake(
            dsn=dsn,
            catalog=PyIcebergCatalogResource(
                name=f"lake_{unique}", catalog_type="sql",
                uri=dsn.replace("postgresql://", "postgresql+psycopg2://", 1),
                warehouse=(tmp_path / "warehouse").as_uri(),
            ),
            postgres=AdbcPostgresResource(dsn=dsn),
        )
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()
