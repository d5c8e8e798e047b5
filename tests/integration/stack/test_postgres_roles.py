"""Least privilege on the stack's PostgreSQL (issue 15, item 4): every connection proves a
password, and each role (infra/roles.py) is refused outside its grants (infra/grants.py)
and allowed inside them. Every write an allowed statement makes is rolled back."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from contracts.postgres import LAKE_CATALOG_SCHEMA
from infra.roles import ROLES

REFUSED = asyncpg.InsufficientPrivilegeError
TABLES = ("payment_events", "payment_events_quarantine", "payments")


@pytest.fixture
async def connect(role_dsn):
    opened: list[asyncpg.Connection] = []

    async def open_as(key: str) -> asyncpg.Connection:
        conn = await asyncpg.connect(role_dsn(key))
        opened.append(conn)
        return conn

    yield open_as
    for conn in opened:
        await conn.close()


async def refused(conn: asyncpg.Connection, sql: str) -> None:
    with pytest.raises(REFUSED):
        await conn.execute(sql)


async def allowed_then_rolled_back(conn: asyncpg.Connection, sql: str) -> None:
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute(sql)
    finally:
        await tx.rollback()


async def test_every_connection_signs_in_with_a_password(postgres_dsn, role_dsn):
    admin = await asyncpg.connect(postgres_dsn)
    try:
        methods = {r["auth_method"] for r in await admin.fetch(
            "SELECT auth_method FROM pg_hba_file_rules WHERE error IS NULL")}
        superusers = {r["rolname"] for r in await admin.fetch(
            "SELECT rolname FROM pg_roles WHERE rolsuper AND rolcanlogin")}
    finally:
        await admin.close()
    assert methods == {"scram-sha-256"}
    assert superusers == {"postgres"}  # no service signs in as a superuser
    url = urlsplit(role_dsn("worker"))
    where = f"@{url.hostname}:{url.port}"
    wrong = urlunsplit(url._replace(netloc=f"{url.username}:not-the-password-at-all{where}"))
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(wrong)
    without = urlunsplit(url._replace(netloc=f"{url.username}{where}"))
    with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InterfaceError,
                        asyncpg.InvalidAuthorizationSpecificationError)):
        await asyncpg.connect(without, passfile="/nonexistent")


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.key)
async def test_each_role_signs_in_as_itself(connect, role):
    conn = await connect(role.key)
    assert await conn.fetchval("SELECT current_user") == role.name


async def test_the_worker_writes_its_rows_and_nothing_else(connect):
    conn = await connect("worker")
    for table in TABLES:
        await conn.fetchval(f"SELECT count(*) FROM {table}")
    await allowed_then_rolled_back(
        conn, "UPDATE payment_events_quarantine SET updated_at = now() WHERE false")
    await allowed_then_rolled_back(conn, "UPDATE payments SET updated_at = now() WHERE false")
    await refused(conn, "DELETE FROM payment_events WHERE false")
    await refused(conn, "DELETE FROM payment_events_quarantine WHERE false")
    await refused(conn, "UPDATE payment_events SET updated_at = now() WHERE false")
    await refused(conn, "TRUNCATE payments")
    await refused(conn, "DROP TABLE payment_events")
    await refused(conn, "ALTER TABLE payments ADD COLUMN x int")
    await refused(conn, "CREATE TABLE worker_made (id int)")
    await refused(conn, "CREATE TEMP TABLE worker_scratch (id int)")
    await refused(conn, "SELECT count(*) FROM schema_migrations")


async def test_batch_reads_the_event_tables_and_keeps_only_its_catalog(connect, unique):
    batch, reader = await connect("batch"), await connect("reader")
    for table in TABLES:
        await batch.fetchval(f"SELECT count(*) FROM {table}")
    await refused(batch, "INSERT INTO payment_events (event_id) VALUES ('x')")
    await refused(batch, "UPDATE payment_events_quarantine SET updated_at = now() WHERE false")
    await refused(batch, "DELETE FROM payments WHERE false")
    await refused(batch, "CREATE TABLE public.batch_made (id int)")
    # Its own schema (the Iceberg SQL catalog's): a table it creates there is its own, and
    # the reader may read it (the default privileges), never write it.
    table = f"{LAKE_CATALOG_SCHEMA}.grants_probe_{unique}"
    assert await batch.fetchval("SELECT (current_schemas(false))[1]") == LAKE_CATALOG_SCHEMA
    await batch.execute(f"CREATE TABLE {table} (id int)")
    try:
        await batch.execute(f"INSERT INTO {table} VALUES (1)")
        assert await reader.fetchval(f"SELECT count(*) FROM {table}") == 1
        await refused(reader, f"INSERT INTO {table} VALUES (2)")
    finally:
        await batch.execute(f"DROP TABLE {table}")


async def test_the_reviewer_reads_quarantine_only(connect):
    conn = await connect("reviewer")
    await conn.fetchval("SELECT count(*) FROM payment_events_quarantine")
    await refused(conn, "SELECT count(*) FROM payment_events")
    await refused(conn, "SELECT count(*) FROM payments")
    await refused(conn, "UPDATE payment_events_quarantine SET reviewer = 'x' WHERE false")
    await refused(conn, "CREATE TABLE reviewer_made (id int)")


async def test_the_reader_reads_and_never_writes(connect):
    conn = await connect("reader")
    for table in TABLES:
        await conn.fetchval(f"SELECT count(*) FROM {table}")
    await refused(conn, "INSERT INTO payment_events (event_id) VALUES ('x')")
    await refused(conn, "UPDATE payments SET updated_at = now() WHERE false")
    await refused(conn, "DELETE FROM payment_events_quarantine WHERE false")
    await refused(conn, f"CREATE TABLE {LAKE_CATALOG_SCHEMA}.reader_made (id int)")


async def test_the_owner_migrates_but_is_no_superuser(connect):
    conn = await connect("owner")
    assert await conn.fetchval("SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles "
                               "WHERE rolname = current_user") is False
    with pytest.raises(REFUSED):
        await conn.execute("CREATE DATABASE owner_made")
    await allowed_then_rolled_back(conn, "CREATE TABLE owner_probe (id int)")


async def test_the_eraser_deletes_and_records_but_never_inserts_or_updates_events(connect):
    conn = await connect("eraser")
    for table in TABLES:
        await allowed_then_rolled_back(conn, f"DELETE FROM {table} WHERE false")
    # Its lock keeps writers out while it deletes (batch/erasure/postgres.py).
    await allowed_then_rolled_back(
        conn, "LOCK TABLE payment_events, payments, payment_events_quarantine "
              "IN SHARE ROW EXCLUSIVE MODE")
    await allowed_then_rolled_back(
        conn, "INSERT INTO erased_customers (customer_sha256) VALUES (repeat('a', 64))")
    await refused(conn, "INSERT INTO payment_events (event_id) VALUES ('x')")
    await refused(conn, "UPDATE payments SET updated_at = now() WHERE false")
    await refused(conn, "DELETE FROM erased_customers WHERE false")
    await refused(conn, "UPDATE erasure_audit SET operator = 'x' WHERE false")
    await refused(conn, "SELECT count(*) FROM dlq_review_audit")
    await refused(conn, "CREATE TABLE eraser_made (id int)")
    # The load and the worker read the digests; nobody else writes them.
    for key in ("batch", "worker"):
        other = await connect(key)
        await other.fetchval("SELECT count(*) FROM erased_customers")
        await refused(other, "INSERT INTO erased_customers (customer_sha256) "
                             "VALUES (repeat('b', 64))")
