"""The PostgreSQL I/O of the orchestration layer: one asyncpg pool, shared (the payments
row that each new event updates is kept by orchestration.payment_state, called from here).

Every write is idempotent by event_id: INSERT ... ON CONFLICT (event_id) DO NOTHING, then
the stored row is compared with what we meant to write. A second delivery of the same
event therefore never adds a row and never changes the first one; a *different* event
under an existing event_id raises EventConflictError, which activities turn into a
non-retryable failure so that it is seen, not papered over.
"""

from __future__ import annotations

import json
from dataclasses import asdict, astuple, fields
from typing import Any

import asyncpg

from contracts import (
    FAILURE_EVENT_TYPES,
    PAYMENT_EVENT_FIELDS,
    SUCCESS_EVENT_TYPES,
    DeadLetter,
    PaymentEvent,
)
from contracts.dead_letters import redact_letter
from contracts.erasure import CUSTOMER_SHA256_SQL
from contracts.privacy import protect_event, protect_event_json
from contracts.storage import (
    ENRICHMENT_COLUMNS,
    QUARANTINE_DIGEST_COLUMNS,
    QUARANTINE_LETTER_COLUMNS,
    QUARANTINE_REDACTION_COLUMNS,
    WRITER_COLUMNS,
)
from orchestration.models import CustomerHistory, PersistInput, ReviewAudit, ReviewOutcome
from orchestration.payment_state import merge_payment_event
from orchestration.rules import IDENTITY_FIELDS

COMPARED_FIELDS = IDENTITY_FIELDS  # processed_at aside: see rules.IDENTITY_FIELDS
_SUCCESS = sorted(str(t) for t in SUCCESS_EVENT_TYPES)
_FAILURE = sorted(str(t) for t in FAILURE_EVENT_TYPES)
_INSERT_COLUMNS = PAYMENT_EVENT_FIELDS + ENRICHMENT_COLUMNS + WRITER_COLUMNS
_INSERT_EVENT = (
    f"INSERT INTO payment_events ({', '.join(_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_INSERT_COLUMNS) + 1))}) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING id"
)
_SELECT_EVENT = f"SELECT {', '.join(COMPARED_FIELDS)} FROM payment_events WHERE event_id = $1"
# A dead letter's columns; review_status and the rest take their defaults.
_QUARANTINE_COLUMNS = (QUARANTINE_LETTER_COLUMNS + QUARANTINE_DIGEST_COLUMNS
                       + QUARANTINE_REDACTION_COLUMNS)
_INSERT_QUARANTINE = (
    f"INSERT INTO payment_events_quarantine ({', '.join(_QUARANTINE_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_QUARANTINE_COLUMNS) + 1))}) "
    "ON CONFLICT (event_id) DO NOTHING"
)
# A customer erased by `python -m batch.erase` (migration 016) is never written again: an
# event of theirs replayed from a raw topic is acknowledged as "erased" and not stored.
_IS_ERASED = ("SELECT EXISTS (SELECT 1 FROM erased_customers WHERE customer_sha256 = "
              f"{CUSTOMER_SHA256_SQL.format('$1')})")


class _ErasedCustomer(Exception):
    """Raised inside the insert's transaction to roll it back."""


# dlq_review_audit (migration 015): ReviewAudit's fields are its columns, in order.
AUDIT_COLUMNS = tuple(f.name for f in fields(ReviewAudit))
_INSERT_AUDIT = (
    f"INSERT INTO dlq_review_audit ({', '.join(AUDIT_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(AUDIT_COLUMNS) + 1))}) "
    "ON CONFLICT (workflow_id, run_id) DO NOTHING RETURNING id"
)
_SELECT_AUDIT = (f"SELECT {', '.join(AUDIT_COLUMNS)} FROM dlq_review_audit "
                 "WHERE workflow_id = $1 AND run_id = $2")
_CUSTOMER_HISTORY = """
WITH h AS (
    SELECT event_type = ANY($4::text[]) AS ok, amount_cents, provider_created_at
    FROM payment_events
    WHERE customer_id = $1 AND event_id <> $2 AND provider_created_at <= $3
      AND validation_status = 'valid' AND event_type = ANY($4::text[] || $5::text[])
)
SELECT count(*) FILTER (WHERE ok) AS successful,
       count(*) FILTER (WHERE NOT ok) AS failed,
       max(provider_created_at) FILTER (WHERE ok) AS last_success_at,
       coalesce(sum(amount_cents) FILTER (WHERE ok), 0) AS total_amount,
       count(*) FILTER (WHERE NOT ok AND provider_created_at >
           (SELECT coalesce(max(provider_created_at), '-infinity') FROM h WHERE ok))
           AS consecutive
FROM h
"""
_PRIOR_FAILURES = """
SELECT count(*) FROM payment_events
WHERE payment_id = $1 AND event_type = $2 AND event_id <> $3 AND provider_created_at <= $4
"""


class AuditConflictError(Exception):
    """A run's audit row already holds a different decision (a bug: a run decides once)."""

    def __init__(self, workflow_id: str, run_id: str, fields: list[str]) -> None:
        super().__init__(f"{workflow_id} run {run_id}: audit row differs in {', '.join(fields)}")
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.fields = fields


class EventConflictError(Exception):
    """A stored row under this event_id holds different unified fields."""

    def __init__(self, event_id: str, fields: list[str]) -> None:
        super().__init__(f"{event_id}: stored row differs in {', '.join(fields)}")
        self.event_id = event_id
        self.fields = fields


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads,
                                  schema="pg_catalog")


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size,
                                     init=_init_connection)


def _event_values(event: PaymentEvent) -> list[Any]:
    return [getattr(event, name) for name in PAYMENT_EVENT_FIELDS]


def diff_fields(stored: dict[str, Any], event: PaymentEvent) -> list[str]:
    """Unified fields whose stored value differs from the event's."""
    return [name for name in COMPARED_FIELDS if stored[name] != getattr(event, name)]


class PaymentStore:
    """Reads and idempotent writes of payment_events and payment_events_quarantine."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")

    async def insert_payment_event(self, request: PersistInput,
                                   workflow_id: str | None = None) -> str:
        """Write the row once; 'inserted', 'duplicate' (an identical row already there) or
        'erased' (the customer was erased: nothing is written). ``workflow_id`` is the
        workflow writing it, kept on a new row (a duplicate keeps its first writer's).

        A new row also merges the event into its payment's ``payments`` row, in the same
        transaction (orchestration.payment_state); a duplicate changes neither table. What
        is written, and compared, is the event as the data map lets it be kept
        (``contracts.privacy``): the normalizer publishes it so already, and any other
        writer of payments.normalized or a reviewer's correction gets no further.
        """
        event = protect_event(request.event)
        e = request.enrichment
        fraud, retry, churn = e.fraud, e.retry, e.churn
        errors = [asdict(issue) for issue in request.validation.errors]
        values = _event_values(event) + [
            fraud and fraud.fraud_score, fraud and fraud.risk_level, fraud and fraud.model_version,
            retry and retry.action, retry and retry.delay_seconds, retry and retry.model_version,
            churn and churn.churn_score, churn and churn.risk_level, churn and churn.model_version,
            e.missing, "invalid" if errors else "valid", errors, workflow_id,
        ]
        async with self._pool.acquire() as conn:
            try:
                # The payment's current state commits with its new event row, or neither does.
                async with conn.transaction():
                    if await conn.fetchval(_INSERT_EVENT, *values) is not None:
                        # Checked after the insert: an erasure locks the table until it
                        # commits, so this sees its digest (batch/erasure/postgres.py).
                        if event.customer_id is not None and await conn.fetchval(
                                _IS_ERASED, event.customer_id):
                            raise _ErasedCustomer  # rolls the insert back
                        await merge_payment_event(conn, event)
                        return "inserted"
            except _ErasedCustomer:
                return "erased"
            stored = await conn.fetchrow(_SELECT_EVENT, event.event_id)
        differing = diff_fields(dict(stored), event)
        if differing:
            raise EventConflictError(event.event_id, differing)
        return "duplicate"

    async def load_customer_history(self, event: PaymentEvent) -> CustomerHistory:
        """The customer's settled payments before this event, this event excluded."""
        row = await self._pool.fetchrow(
            _CUSTOMER_HISTORY, event.customer_id, event.event_id, event.provider_created_at,
            _SUCCESS, _FAILURE,
        )
        return CustomerHistory(
            successful_payments=row["successful"],
            failed_payments=row["failed"],
            consecutive_failures=row["consecutive"],
            last_success_at=row["last_success_at"],
            total_amount_cents=int(row["total_amount"]),
        )

    async def count_prior_failures(self, event: PaymentEvent) -> int:
        """Earlier failures of the same payment, so retry advice knows the attempt number."""
        if not event.payment_id:
            return 0
        return await self._pool.fetchval(
            _PRIOR_FAILURES, event.payment_id, event.event_type, event.event_id,
            event.provider_created_at,
        )

    async def insert_quarantine(self, letter: DeadLetter) -> str:
        """Quarantine the dead letter once; returns the row's current review_status.

        original_payload holds the letter's redacted excerpt (redacted here again, as a
        review workflow may be started by anyone who reaches Temporal); sha256, length and
        truncated describe the original, which its source coordinates address on its topic.
        """
        letter = redact_letter(letter)
        errors = [asdict(issue) for issue in letter.errors]
        async with self._pool.acquire() as conn:
            await conn.execute(
                _INSERT_QUARANTINE,
                letter.event_id, letter.provider, letter.provider_event_id, letter.source_topic,
                letter.source_partition, letter.source_offset, letter.payload,
                letter.payload_encoding, list(letter.error_codes), errors,
                letter.payload_sha256, letter.payload_length, letter.payload_truncated,
                letter.payload_redaction,
            )
            return await conn.fetchval(
                "SELECT review_status FROM payment_events_quarantine WHERE event_id = $1",
                letter.event_id,
            )

    async def record_review(self, outcome: ReviewOutcome) -> str | None:
        """Close a pending quarantine row and write its audit row, in one transaction.

        A row already decided is left as it is. The audit row is keyed by (workflow_id,
        run_id), so a retried write finds its own row and returns 'duplicate' ('inserted'
        the first time; None without an audit); a different row under that key raises
        AuditConflictError and changes nothing. A corrected event is kept as the data map
        lets an event be kept, as payment_events keeps it.
        """
        corrected = (protect_event_json(outcome.corrected_event)
                     if isinstance(outcome.corrected_event, dict) else outcome.corrected_event)
        async with self._pool.acquire() as conn, conn.transaction():
            audited = None if outcome.audit is None else await _insert_audit(conn, outcome.audit)
            await conn.execute(
                """
                UPDATE payment_events_quarantine
                SET review_status = $2, reviewer = $3, decision_reason = $4,
                    corrected_event = $5, reviewed_at = now(), updated_at = now()
                WHERE event_id = $1 AND review_status = 'pending'
                """,
                outcome.event_id, outcome.review_status, outcome.reviewer, outcome.reason,
                corrected,
            )
        return audited

    async def list_review_audit(self, event_id: str) -> list[dict[str, Any]]:
        """Every audit row of one dead letter, oldest first."""
        rows = await self._pool.fetch(
            "SELECT * FROM dlq_review_audit WHERE event_id = $1 ORDER BY decided_at, id",
            event_id)
        return [dict(r) for r in rows]

    async def list_quarantine(self, status: str | None = None,
                              limit: int = 100) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """
            SELECT event_id, provider, source_topic, source_partition, source_offset,
                   error_codes, review_status, reviewer, quarantined_at, reviewed_at,
                   payload_sha256, payload_redaction
            FROM payment_events_quarantine
            WHERE $1::text IS NULL OR review_status = $1
            ORDER BY quarantined_at LIMIT $2
            """,
            status, limit,
        )
        return [dict(r) for r in rows]

    async def get_quarantine(self, event_id: str) -> dict[str, Any] | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM payment_events_quarantine WHERE event_id = $1", event_id)
        return None if row is None else dict(row)


async def _insert_audit(conn: asyncpg.Connection, audit: ReviewAudit) -> str:
    if await conn.fetchval(_INSERT_AUDIT, *astuple(audit)) is not None:
        return "inserted"
    stored = await conn.fetchrow(_SELECT_AUDIT, audit.workflow_id, audit.run_id)
    differing = [name for name in AUDIT_COLUMNS if stored[name] != getattr(audit, name)]
    if differing:
        raise AuditConflictError(audit.workflow_id, audit.run_id, differing)
    return "duplicate"
