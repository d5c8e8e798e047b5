-- The Iceberg SQL catalog's own schema (issue 15): the batch role creates PyIceberg's catalog
-- tables here and owns them; infra/grants.py lets it create in this schema only, and lets
-- the reader role read the catalog. The roles' search_path (infra/roles.py) puts `lakehouse`
-- first, so PyIceberg's unqualified table names land here without a setting.
--
-- A catalog that an earlier version created in `public` (as the one application role) moves
-- here with its rows, so the lake keeps its tables.

CREATE SCHEMA IF NOT EXISTS lakehouse;

DO $$
BEGIN
    IF to_regclass('public.iceberg_tables') IS NOT NULL THEN
        ALTER TABLE public.iceberg_tables SET SCHEMA lakehouse;
    END IF;
    IF to_regclass('public.iceberg_namespace_properties') IS NOT NULL THEN
        ALTER TABLE public.iceberg_namespace_properties SET SCHEMA lakehouse;
    END IF;
END
$$;
