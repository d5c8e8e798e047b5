"""Applies the versioned SQL files of every package that owns tables once each, in order.

    python -m infra.migrate [--dsn postgresql://...]   # default: MIGRATE_POSTGRES_DSN, the owner

Each owning package keeps its files in ``<package>/migrations/`` (orchestration its payment
tables, batch its lake-load stamps). The runner merges them into one order by version
number, so a version is unique across all owners; the bookkeeping (``schema_migrations``:
version, name, checksum) does not record the owner, so moving a file between owners leaves
a migrated database up to date.

Each file runs in its own transaction together with its bookkeeping row, under an
advisory lock, so two runners at once apply each file exactly once. A file that was
applied and later edited is refused: migrations are append-only.

After the files, ``migrate`` applies infra/grants.py's table of grants (every time, in one
transaction), so a table a migration adds gets its grants from the same run. It runs as the
owner role (infra/roles.py), which owns every table it creates.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

# The packages that own tables, beside this one both in the repository and when installed.
OWNERS = ("orchestration", "batch")
MIGRATION_DIRS = tuple(Path(__file__).resolve().parent.parent / o / "migrations" for o in OWNERS)
_FILENAME = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every runner.
_ADVISORY_LOCK_KEY = 0x5041594D


class MigrationError(RuntimeError):
    """The migration files or the database's record of them are inconsistent."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directories: Sequence[Path] = MIGRATION_DIRS) -> list[Migration]:
    """Every owner's files in one order by version number; a version used twice is refused."""
    found: dict[int, Path] = {}
    migrations: list[Migration] = []
    for directory in directories:
        for path in sorted(directory.glob("*.sql")):
            match = _FILENAME.match(path.name)
            if match is None:
                raise MigrationError(f"{path}: expected NNN_name.sql")
            version = int(match[1])
            if version in found:
                raise MigrationError(f"duplicate migration version {version}: {found[version]} "
                                     f"and {path}")
            found[version] = path
            migrations.append(Migration(version, match[2], path.read_text()))
    return sorted(migrations, key=lambda m: m.version)


async def apply_migrations(
    conn: asyncpg.Connection, migrations: list[Migration] | None = None
) -> list[Migration]:
    """Apply what is not yet applied; returns the migrations this call applied."""
    migrations = load_migrations() if migrations is None else migrations
    await conn.execute("SELECT pg_advisory_lock($1)", _ADVISORY_LOCK_KEY)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = {
            r["version"]: r["checksum"]
            for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")
        }
        done: list[Migration] = []
        for migration in migrations:
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version}_{migration.name} changed after it was "
                        "applied; add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version, migration.name, migration.checksum,
                )
            done.append(migration)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _ADVISORY_LOCK_KEY)


async def migrate(dsn: str) -> list[Migration]:
    """The migrations not yet applied, then the grants; returns the migrations applied."""
    from infra.grants import apply_grants

    conn = await asyncpg.connect(dsn)
    try:
        applied = await apply_migrations(conn)
        await apply_grants(conn)
        return applied
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None, help="default: MIGRATE_POSTGRES_DSN")
    args = parser.parse_args(argv)
    if args.dsn is None:
        from pydantic import ValidationError

        from infra.db_settings import MigrateSettings, invalid

        try:
            args.dsn = MigrateSettings().POSTGRES_DSN
        except ValidationError as err:
            print(f"migrate: invalid configuration: {invalid(err)}", file=sys.stderr)
            return 2
    applied = asyncio.run(migrate(args.dsn))
    for m in applied:
        print(f"applied {m.version:03d}_{m.name}")
    if not applied:
        print("migrations: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
