"""One erasure, in order: PostgreSQL (and the digest that keeps the customer out), then the
lake, then the audit row; a failure is audited too, with what was done before it.

PostgreSQL goes first, so that once the lake is erased no load can bring the rows back:
they are gone from the source, and the digest keeps out any that return (a restored backup,
a replayed event). Every step is idempotent: a run that failed half-way is run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pyiceberg.catalog import Catalog

from batch.erasure.audits import ErasureRecord, Operator, Progress, build_record, write_audit
from batch.erasure.lake import erase_lake
from batch.erasure.postgres import erase_postgres
from batch.loads import ConnectPostgres
from contracts.erasure import check_customer_id, customer_sha256

log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now(UTC)


def erase_customer(customer_id: str, *, connect: Callable[[], object],
                   lock: ConnectPostgres | None, catalog: Catalog, operator: Operator,
                   orphan_min_age_s: int, dry_run: bool = False) -> ErasureRecord:
    """Erase one customer everywhere and return the audit record (written unless dry).

    ``connect`` opens a psycopg2 connection as the eraser role; ``lock`` an autocommit one
    that holds bronze tables' load locks; ``orphan_min_age_s`` is the orphan job's margin
    for unreferenced files the erasure did not release itself.
    """
    customer_id = check_customer_id(customer_id)
    digest = customer_sha256(customer_id)
    started, progress = now(), Progress()
    conn = connect()
    try:
        try:
            progress.postgres_rows, keys = erase_postgres(conn, customer_id, digest, dry_run)
            erase_lake(catalog, customer_id, keys, lock,
                       now() - timedelta(seconds=orphan_min_age_s), progress, dry_run)
        except Exception as exc:
            if not dry_run:
                failed = build_record(digest, operator, progress, started, now(), exc)
                try:
                    write_audit(conn, failed, customer_id)
                except Exception:
                    log.exception("the failed erasure %s could not be audited",
                                  failed.erasure_id)
            raise
        record = build_record(digest, operator, progress, started, now())
        if not dry_run:
            write_audit(conn, record, customer_id)
        return record
    finally:
        conn.close()
