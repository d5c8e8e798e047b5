"""The project's PostgreSQL answers, and migrations apply exactly once."""

import asyncio

import asyncpg
import pytest

from infra.migrate import Migration, MigrationError, apply_migrations, load_migrations


@pytest.fixture
async def scratch_db(postgres_dsn, unique):
    name = f"scratch_{unique}"
    admin = await asyncpg.connect(postgres_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_dsn.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def test_postgres_answers_a_query(role_dsn):
    conn = await asyncpg.connect(role_dsn("owner"))
    try:
        assert await conn.fetchval("SELECT current_user || '@' || current_database()") == (
            "payments@payments"
        )
    finally:
        await conn.close()


async def test_stack_database_has_every_migration_applied(postgres_dsn):
    conn = await asyncpg.connect(postgres_dsn)
    try:
        versions = [r["version"] for r in await conn.fetch(
            "SELECT version FROM schema_migrations ORDER BY version")]
    finally:
        await conn.close()
    assert versions == [m.version for m in load_migrations()]


async def test_migrations_apply_once_and_a_second_run_is_a_no_op(scratch_db):
    conn = await asyncpg.connect(scratch_db)
    try:
        first = await apply_migrations(conn)
        second = await apply_migrations(conn)
        tables = {r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()
    assert [m.version for m in first] == [m.version for m in load_migrations()]
    assert second == []
    assert {"payment_events", "payment_events_quarantine", "schema_migrations"} <= tables


async def test_concurrent_runners_apply_each_migration_once(scratch_db):
    conns = [await asyncpg.connect(scratch_db) for _ in range(3)]
    try:
        results = await asyncio.gather(*(apply_migrations(c) for c in conns))
    finally:
        for c in conns:
            await c.close()
    applied = [m.version for result in results for m in result]
    assert sorted(applied) == [m.version for m in load_migrations()]


async def test_an_edited_migration_is_refused(scratch_db):
    original = [Migration(1, "first", "CREATE TABLE t (id int);")]
    edited = [Migration(1, "first", "CREATE TABLE t (id bigint);")]
    conn = await asyncpg.connect(scratch_db)
    try:
        await apply_migrations(conn, original)
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await apply_migrations(conn, edited)
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_behind(scratch_db):
    broken = [Migration(1, "broken", "CREATE TABLE half (id int); SELECT no_such_function();")]
    conn = await asyncpg.connect(scratch_db)
    try:
        with pytest.raises(asyncpg.PostgresError):
            await apply_migrations(conn, broken)
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == 0
    finally:
        await conn.close()
