"""The pipeline's PostgreSQL roles, and the cluster step that creates them with their passwords.

    python -m infra.roles              # apply: every role, its password, the database
    python -m infra.roles rotate KEY   # the local stack: a new password for KEY (e.g. worker)

One login role per kind of client, each with its own password (``ROLES``). ``apply`` runs as
the cluster's admin (it creates roles and the database, which only a superuser may): `make
up` runs it before the migrations, compose's ``db-roles`` service before ``migrate``. It is
idempotent and sets every password to the configured one, which is also how a password is
rotated. What each role may do to each table is infra/grants.py's, applied by infra.migrate
as the owner after every migration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import asyncpg

from contracts.postgres import LAKE_CATALOG_SCHEMA

DATABASE = "payments"


@dataclass(frozen=True, slots=True)
class Role:
    key: str  # how operators name it: `python -m infra.roles rotate worker`
    name: str  # the PostgreSQL role
    password: str  # the setting that holds its password (.stack/env, compose's .env)
    dsns: tuple[tuple[str, str], ...]  # (setting, URL scheme) of each DSN that signs in as it
    who: str  # who connects as it


ADMIN = Role("admin", "postgres", "POSTGRES_ADMIN_PASSWORD",
             (("POSTGRES_ADMIN_DSN", "postgresql"),),
             "the cluster's superuser: this step, tests, an operator reading every table")
OWNER = Role("owner", "payments", "POSTGRES_OWNER_PASSWORD",
             (("MIGRATE_POSTGRES_DSN", "postgresql"),),
             "`python -m infra.migrate`: owns the database, its schemas and tables")
WORKER = Role("worker", "payments_worker", "POSTGRES_WORKER_PASSWORD",
              (("ORCHESTRATOR_POSTGRES_DSN", "postgresql"),), "`python -m orchestration.worker`")
BATCH = Role("batch", "payments_batch", "POSTGRES_BATCH_PASSWORD",
             (("BATCH_POSTGRES_DSN", "postgresql"), ("BATCH_CATALOG_URI", "postgresql+psycopg2")),
             "Dagster's loads and checks (batch/), and the Iceberg SQL catalog it writes")
REVIEWER = Role("reviewer", "payments_reviewer", "POSTGRES_REVIEWER_PASSWORD",
                (("ORCHESTRATOR_REVIEW_POSTGRES_DSN", "postgresql"),),
                "`python -m orchestration.review`")
READER = Role("reader", "payments_reader", "POSTGRES_READER_PASSWORD",
              (("ORCHESTRATOR_READER_POSTGRES_DSN", "postgresql"),
               ("ORCHESTRATOR_READER_CATALOG_URI", "postgresql+psycopg2")),
              "`orchestration.trace`, `.replay`, `.reconcile`, and `make demo`'s counts")
ERASER = Role("eraser", "payments_eraser", "POSTGRES_ERASER_PASSWORD",
              (("ERASURE_POSTGRES_DSN", "postgresql"),),
              "`python -m batch.erase`: deletes one customer's rows and records the erasure")
ROLES = (ADMIN, OWNER, WORKER, BATCH, REVIEWER, READER, ERASER)
# The roles infra/grants.py grants to; the owner owns, the admin is a superuser.
GRANTEES = (WORKER, BATCH, REVIEWER, READER, ERASER)
# Their unqualified names find the Iceberg catalog's tables (in LAKE_CATALOG_SCHEMA) first.
CATALOG_ROLES = (BATCH, READER)


def role(key: str) -> Role:
    for candidate in ROLES:
        if candidate.key == key:
            return candidate
    raise KeyError(f"no role {key!r}; the roles are {', '.join(r.key for r in ROLES)}")


def dsn(who: Role, password: str, host: str, port: int, scheme: str = "postgresql",
        database: str = DATABASE) -> str:
    return f"{scheme}://{who.name}:{quote(password, safe='')}@{host}:{port}/{database}"


def role_statements(passwords: Mapping[str, str]) -> list[tuple[str, tuple[str, ...]]]:
    """(``format()`` template, arguments) of each statement, quoted by the server.

    Every role but the admin is an ordinary login role; the owner is a member of the batch
    role so that it may grant reads on the catalog tables the batch role creates.
    """
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
    statements = [("ALTER ROLE CURRENT_USER WITH PASSWORD %L", (passwords[ADMIN.password],))]
    for who in ROLES[1:]:
        statements.append((f"ALTER ROLE %I WITH {attributes} PASSWORD %L",
                           (who.name, passwords[who.password])))
    for who in CATALOG_ROLES:
        statements.append(("ALTER ROLE %I SET search_path = %I, public",
                           (who.name, LAKE_CATALOG_SCHEMA)))
    statements.append(("GRANT %I TO %I", (BATCH.name, OWNER.name)))
    return statements


async def apply_roles(admin_dsn: str, passwords: Mapping[str, str],
                      database: str = DATABASE) -> None:
    """Create what is missing (roles, the database), then set every role as ``ROLES`` says."""
    conn = await asyncpg.connect(admin_dsn, database="postgres")
    try:
        existing = {r["rolname"] for r in await conn.fetch("SELECT rolname FROM pg_roles")}
        for who in ROLES[1:]:
            if who.name not in existing:
                await _run(conn, "CREATE ROLE %I", who.name)
        for template, args in role_statements(passwords):
            await _run(conn, template, *args)
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await _run(conn, "ALTER DATABASE %I OWNER TO %I", database, OWNER.name)
        else:
            await _run(conn, "CREATE DATABASE %I OWNER %I", database, OWNER.name)
    finally:
        await conn.close()


async def _run(conn: asyncpg.Connection, template: str, *args: str) -> None:
    # Identifiers and passwords are quoted by the server's format(), never by hand.
    placeholders = ", ".join(f"${i}::text" for i in range(1, len(args) + 1))
    sql = await conn.fetchval(f"SELECT format('{template}', {placeholders})", *args)
    await conn.execute(sql)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("apply", help="create the roles and the database (the default)")
    rotate = sub.add_parser("rotate", help="the local stack: new passwords in .stack/env")
    rotate.add_argument("keys", nargs="+", choices=[r.key for r in ROLES])
    args = parser.parse_args(argv)
    if args.command == "rotate":
        from infra.stack_env import rotate_passwords

        for line in asyncio.run(rotate_passwords(args.keys)):
            print(line)
        return 0
    from pydantic import ValidationError

    from infra.db_settings import RolesSettings, invalid

    try:
        settings = RolesSettings()
    except ValidationError as err:
        print(f"roles: invalid configuration: {invalid(err)}", file=sys.stderr)
        return 2
    asyncio.run(apply_roles(settings.POSTGRES_ADMIN_DSN, settings.passwords()))
    print(f"roles: {', '.join(r.name for r in ROLES)} set; database {DATABASE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
