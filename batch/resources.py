"""Dagster resources: the Iceberg catalog and the PostgreSQL source, behind abstract bases.

An empty field falls back to the BATCH_* settings, read when the resource is used,
never at import; tests and compose pass values explicitly.
"""

from __future__ import annotations

from abc import abstractmethod

import adbc_driver_postgresql.dbapi as adbc
from dagster import ConfigurableResource
from pyiceberg.catalog import Catalog, load_catalog

from batch.settings import BatchSettings


class IcebergCatalogResource(ConfigurableResource):
    """Hands out a PyIceberg catalog."""

    @abstractmethod
    def load(self) -> Catalog: ...


class PostgresResource(ConfigurableResource):
    """Opens DB-API connections that can fetch Arrow tables."""

    @abstractmethod
    def connect(self): ...


class PyIcebergCatalogResource(IcebergCatalogResource):
    """A SQL catalog in PostgreSQL by default, or a REST catalog with S3/MinIO storage."""

    name: str = ""
    catalog_type: str = ""
    uri: str = ""
    warehouse: str = ""
    properties: dict[str, str] = {}

    def catalog_properties(self) -> dict[str, str]:
        settings = BatchSettings()
        props = {
            "type": self.catalog_type or settings.CATALOG_TYPE,
            "uri": self.uri or settings.catalog_uri(),
            "warehouse": self.warehouse or settings.warehouse_uri(),
        }
        props.update(settings.CATALOG_PROPERTIES)
        props.update(self.properties)
        return props

    def load(self) -> Catalog:
        settings = BatchSettings()
        return load_catalog(self.name or settings.CATALOG_NAME, **self.catalog_properties())


class AdbcPostgresResource(PostgresResource):
    """ADBC's PostgreSQL driver: rows arrive as Arrow, with no per-row Python."""

    dsn: str = ""

    def connect(self):
        return adbc.connect(self.dsn or BatchSettings().postgres_dsn(), autocommit=True)
