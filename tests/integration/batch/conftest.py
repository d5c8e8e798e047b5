"""A scratch PostgreSQL database with the migrations, and a per-test Iceberg catalog.

As on the stack: the owner role owns the database and migrates it (the grants with it), the
tests write their rows as the owner, and batch reads and keeps its catalog as the batch role
(payments_batch), so its grants are what these tests exercise.
"""

from __future__ import annotations

import asyncio

import psycopg2
import pytest
from batch_lake import Lake

from batch.resources import AdbcPostgresResource, PyIcebergCatalogResource
from infra.migrate import migrate


@pytest.fixture
def lake(postgres_dsn, role_dsn, unique, tmp_path):
    from infra.roles import OWNER

    name = f"scratch_batch_{unique}"
    admin = psycopg2.connect(postgres_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}" OWNER "{OWNER.name}"')
    owner, batch = role_dsn("owner", name), role_dsn("batch", name)
    try:
        asyncio.run(migrate(owner))
        yield Lake(
            dsn=owner,
            catalog=PyIcebergCatalogResource(
                name=f"lake_{unique}", catalog_type="sql",
                uri=batch.replace("postgresql://", "postgresql+psycopg2://", 1),
                warehouse=(tmp_path / "warehouse").as_uri(),
            ),
            postgres=AdbcPostgresResource(dsn=batch),
        )
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()
