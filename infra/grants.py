"""Who may do what to each table: the one table of grants, applied after every migration.

A migration that adds a table adds its lines to ``GRANTS`` (a table nobody is granted is
the owner's alone, as ``schema_migrations`` is); tests/unit/infra/test_grants.py fails on a
migrated table that is in neither ``GRANTS`` nor ``OWNER_ONLY``. Columns need no lines:
grants are per table.

``apply_grants`` runs as the owner (infra.migrate, after the migrations) in one transaction:
it revokes every table privilege the grantees hold in the public schema, then grants these,
so a line removed here is revoked on the next `make up` or `migrate`, and no client ever sees
a moment without its grants. It also closes what PostgreSQL opens to PUBLIC by default (the
database's CONNECT and TEMPORARY, CREATE on the public schema) and gives the batch role the
catalog's schema.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from contracts.postgres import LAKE_CATALOG_SCHEMA
from infra.roles import BATCH, ERASER, GRANTEES, OWNER, READER, REVIEWER, WORKER, Role

PRIVILEGES = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
_ADVISORY_LOCK_KEY = 0x4752414E  # any constant, the same for every runner


@dataclass(frozen=True, slots=True)
class Grant:
    table: str
    role: Role
    privileges: tuple[str, ...]
    why: str  # the code that needs it


GRANTS: tuple[Grant, ...] = (
    # orchestration/store.py: INSERT ... ON CONFLICT DO NOTHING RETURNING id, then the
    # stored row's fields, and the customer's history.
    Grant("payment_events", WORKER, ("SELECT", "INSERT"), "orchestration/store.py"),
    # insert_quarantine, then its review_status; record_review closes the row.
    Grant("payment_events_quarantine", WORKER, ("SELECT", "INSERT", "UPDATE"),
          "orchestration/store.py"),
    # orchestration/payment_state.py: SELECT ... FOR UPDATE (which needs UPDATE), INSERT.
    Grant("payments", WORKER, ("SELECT", "INSERT", "UPDATE"), "orchestration/payment_state.py"),
    # batch/loads.py reads both event tables by lake_xid; batch/checks.py reads payments.
    Grant("payment_events", BATCH, ("SELECT",), "batch/loads.py"),
    Grant("payment_events_quarantine", BATCH, ("SELECT",), "batch/loads.py"),
    Grant("payments", BATCH, ("SELECT",), "batch/checks.py"),
    # orchestration/review.py lists and reads quarantine rows; decisions go through Temporal.
    Grant("payment_events_quarantine", REVIEWER, ("SELECT",), "orchestration/review.py"),
    # trace (tracing/postgres.py), replay and reconcile (holdings.py), make demo's counts.
    Grant("payment_events", READER, ("SELECT",), "orchestration/tracing/postgres.py"),
    Grant("payment_events_quarantine", READER, ("SELECT",), "orchestration/holdings.py"),
    Grant("payments", READER, ("SELECT",), "orchestration/tracing/postgres.py"),
    # record_review writes one audit row per decision and reads it back on a retry; the
    # table's trigger refuses UPDATE and DELETE to everyone. Reviewers and operators read it.
    Grant("dlq_review_audit", WORKER, ("SELECT", "INSERT"), "orchestration/store.py"),
    Grant("dlq_review_audit", REVIEWER, ("SELECT",), "orchestration/review.py"),
    Grant("dlq_review_audit", READER, ("SELECT",), "operators"),
    # Right to erasure (batch/erasure/postgres.py): the eraser alone deletes, and only the
    # customer's rows (it reads them to find them, and LOCK TABLE needs DELETE); it adds the
    # customer's digest and the audit row. The load and the worker read the digests to keep
    # an erased customer out; operators read the audit.
    Grant("payment_events", ERASER, ("SELECT", "DELETE"), "batch/erasure/postgres.py"),
    Grant("payment_events_quarantine", ERASER, ("SELECT", "DELETE"),
          "batch/erasure/postgres.py"),
    Grant("payments", ERASER, ("SELECT", "DELETE"), "batch/erasure/postgres.py"),
    Grant("erased_customers", ERASER, ("SELECT", "INSERT"), "batch/erasure/postgres.py"),
    Grant("erasure_audit", ERASER, ("SELECT", "INSERT"), "batch/erasure/audit.py"),
    Grant("erased_customers", BATCH, ("SELECT",), "batch/loads.py"),
    Grant("erased_customers", WORKER, ("SELECT",), "orchestration/store.py"),
    Grant("erasure_audit", READER, ("SELECT",), "operators"),
)
# Tables only the owner touches.
OWNER_ONLY = frozenset({"schema_migrations"})


def check_grants(grants: tuple[Grant, ...] = GRANTS) -> None:
    """Refuse an unknown privilege, a grantee that is not one, or a table listed twice for
    one role (its privileges belong on one line)."""
    seen: set[tuple[str, str]] = set()
    for g in grants:
        if not g.privileges or set(g.privileges) - PRIVILEGES:
            raise ValueError(f"{g.table}/{g.role.key}: privileges must be some of "
                             f"{sorted(PRIVILEGES)}, not {g.privileges}")
        if g.role not in GRANTEES:
            raise ValueError(f"{g.table}: {g.role.name} is not a grantee")
        if (g.table, g.role.key) in seen:
            raise ValueError(f"{g.table}/{g.role.key} is listed twice")
        seen.add((g.table, g.role.key))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_statements(database: str, grants: tuple[Grant, ...] = GRANTS) -> list[str]:
    """The whole step, in order, as SQL for one transaction."""
    check_grants(grants)
    grantees = ", ".join(quote_ident(r.name) for r in GRANTEES)
    catalog = quote_ident(LAKE_CATALOG_SCHEMA)
    db = quote_ident(database)
    readers = ", ".join(quote_ident(r.name) for r in (BATCH, READER))
    statements = [
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {db} TO {quote_ident(OWNER.name)}, {grantees}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {grantees}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {grantees}",
    ]
    statements += [f"GRANT {', '.join(g.privileges)} ON TABLE public.{quote_ident(g.table)} "
                   f"TO {quote_ident(g.role.name)}" for g in grants]
    # The Iceberg SQL catalog: the batch role creates its tables there and owns them; the
    # reader (the trace) reads them, including tables the batch role creates later.
    batch = quote_ident(BATCH.name)
    statements += [
        f"GRANT USAGE, CREATE ON SCHEMA {catalog} TO {batch}",
        f"GRANT USAGE ON SCHEMA {catalog} TO {quote_ident(READER.name)}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {catalog} TO {batch}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {catalog} TO {readers}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {batch} IN SCHEMA {catalog} "
        f"GRANT SELECT ON TABLES TO {quote_ident(READER.name)}",
    ]
    return statements


async def apply_grants(conn: asyncpg.Connection, grants: tuple[Grant, ...] = GRANTS) -> None:
    """Apply ``grant_statements`` for the connection's database, all or nothing."""
    database = await conn.fetchval("SELECT current_database()")
    async with conn.transaction():
        # Two runners at once would both update the same catalog rows ("tuple concurrently
        # updated"): the second waits for the first.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _ADVISORY_LOCK_KEY)
        for statement in grant_statements(database, grants):
            await conn.execute(statement)
