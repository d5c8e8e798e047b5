"""The erasure's audit row: who erased, when, and what went, never an erased value.

The customer is named by the digest alone (``contracts.erasure.customer_sha256``), the
tables by name, the rows by count, the snapshots by id and the files by path (Iceberg names
them by uuid). ``check_holds_no_id`` refuses a record whose text holds the id anyway, so the
audit cannot become a copy of what it records the removal of.

The caller is named as the review CLI names a reviewer (orchestration/reviewers.py): the
passwd entry of the process's real uid, which $USER cannot change, or a configured identity
(ERASURE_IDENTITY) for a job with no person at a terminal.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime

from contracts.workflows import REVIEWER_PATTERN

COMPLETED, FAILED = "completed", "failed"
ERROR_MAX_CHARS = 200
_JSON_COLUMNS = ("postgres_rows", "lake_rows", "snapshots_expired", "files_removed")


class InvalidOperatorError(ValueError):
    """The configured identity is not an account name (contracts.workflows.REVIEWER_PATTERN)."""


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    source: str  # os_user or configured (contracts.workflows.IDENTITY_SOURCES)


def os_account(uid: int | None = None) -> str:
    """The real uid's account name (``uid:<n>`` when it has no passwd entry)."""
    uid = os.getuid() if uid is None else uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def resolve_operator(configured: str | None, account: str | None = None) -> Operator:
    """The configured identity when there is one, else the OS account; checked either way."""
    name, source = ((configured, "configured") if configured is not None
                    else (account if account is not None else os_account(), "os_user"))
    if not re.fullmatch(REVIEWER_PATTERN, name):
        raise InvalidOperatorError(
            f"ERASURE_IDENTITY must be an account name ({REVIEWER_PATTERN})"
            if source == "configured" else "the OS account name cannot name an operator")
    return Operator(name, source)


@dataclass(frozen=True, slots=True)
class ErasureRecord:
    """One erasure_audit row (migration 016), its columns in order."""

    erasure_id: str
    customer_sha256: str
    outcome: str
    operator: str
    identity_source: str
    postgres_rows: dict[str, int]
    lake_rows: dict[str, int]
    snapshots_expired: dict[str, list[int]]
    files_removed: dict[str, list[str]]
    error: str | None
    started_at: datetime
    finished_at: datetime


AUDIT_COLUMNS = tuple(f.name for f in fields(ErasureRecord))


@dataclass
class Progress:
    """What an erasure has done so far; a failed run records what it got to."""

    postgres_rows: dict[str, int] = field(default_factory=dict)
    lake_rows: dict[str, int] = field(default_factory=dict)
    snapshots_expired: dict[str, list[int]] = field(default_factory=dict)
    files_removed: dict[str, list[str]] = field(default_factory=dict)


def error_name(exc: BaseException) -> str:
    """The exception's class only: messages (PyIceberg's expressions, SQL) may quote the id."""
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"[:ERROR_MAX_CHARS]


def build_record(digest: str, operator: Operator, progress: Progress, started_at: datetime,
                 finished_at: datetime, error: BaseException | None = None,
                 erasure_id: str | None = None) -> ErasureRecord:
    return ErasureRecord(
        erasure_id=erasure_id or str(uuid.uuid4()), customer_sha256=digest,
        outcome=COMPLETED if error is None else FAILED, operator=operator.name,
        identity_source=operator.source, postgres_rows=dict(progress.postgres_rows),
        lake_rows=dict(progress.lake_rows),
        snapshots_expired={k: sorted(v) for k, v in progress.snapshots_expired.items()},
        files_removed={k: sorted(v) for k, v in progress.files_removed.items()},
        error=None if error is None else error_name(error),
        started_at=started_at, finished_at=finished_at)


def record_values(record: ErasureRecord) -> list:
    """The row's values in AUDIT_COLUMNS order, the dicts as JSON text for jsonb."""
    values = asdict(record)
    return [json.dumps(values[c], sort_keys=True) if c in _JSON_COLUMNS else values[c]
            for c in AUDIT_COLUMNS]


def check_holds_no_id(record: ErasureRecord, customer_id: str) -> None:
    """Refuse a record whose text holds the customer id (say, in a table or file name)."""
    if any(customer_id in str(value) for value in record_values(record)):
        raise ValueError("the erasure's audit record would hold the customer id; not written")


_INSERT = (f"INSERT INTO erasure_audit ({', '.join(AUDIT_COLUMNS)}) "
           f"VALUES ({', '.join('%s' for _ in AUDIT_COLUMNS)})")
_TOMBSTONE = ("INSERT INTO erased_customers (customer_sha256) VALUES (%s) "
              "ON CONFLICT (customer_sha256) DO NOTHING")


def write_audit(conn, record: ErasureRecord, customer_id: str) -> None:
    """Insert the row (and the digest it refers to, if a failure came before it) and commit."""
    check_holds_no_id(record, customer_id)
    with conn, conn.cursor() as cur:
        cur.execute(_TOMBSTONE, (record.customer_sha256,))
        cur.execute(_INSERT, record_values(record))
