"""The PostgreSQL columns that orchestration writes and batch reads into the lake.

The SQL migrations create them, ``orchestration.store`` writes them and ``batch.schemas``
mirrors them into Iceberg. The names, in table order, are defined here once;
tests/unit/contracts/test_contracts_storage.py parses the migrations and pins them, and the
bronze schemas' field names, equal to these lists. The types stay with their owners (the
DDL, and ``batch.schemas`` for Iceberg); tests/integration/test_schema_parity.py compares
them on a real server.
"""

# payment_events: the unified event's fields (contracts.events.PAYMENT_EVENT_FIELDS), then
# what the PaymentEventWorkflow adds. A score inference could not give is NULL, with the
# reason in enrichment_missing.
ENRICHMENT_COLUMNS = (
    "fraud_score", "fraud_risk_level", "fraud_model_version",
    "retry_action", "retry_delay_seconds", "retry_model_version",
    "churn_score", "churn_risk_level", "churn_model_version",
    "enrichment_missing", "validation_status", "validation_errors",
)
# ... and last, two stamps that column defaults set (no writer lists them).
ROW_STAMP_COLUMNS = ("ingested_at", "updated_at")
# ... then, since migration 017, the Temporal workflow that wrote the row
# (``payment-event:<event_id>`` or ``payment-batch:<batch key>``; NULL for rows written
# before it). PostgreSQL only: it says where to look in Temporal, which the lake's readers
# do not need, and bronze.payment_events keeps its columns (LAKE_OMITS_PAYMENT_EVENTS).
WRITER_COLUMNS = ("workflow_id",)
LAKE_OMITS_PAYMENT_EVENTS = WRITER_COLUMNS

# payment_events_quarantine, as a dead letter fills it (contracts.dead_letters.DeadLetter;
# original_payload is its payload excerpt).
QUARANTINE_LETTER_COLUMNS = (
    "event_id", "provider", "provider_event_id", "source_topic", "source_partition",
    "source_offset", "original_payload", "payload_encoding", "error_codes", "errors",
)
# ... then as review fills it (quarantined_at and updated_at by their defaults first).
QUARANTINE_REVIEW_COLUMNS = (
    "review_status", "reviewer", "decision_reason", "corrected_event", "quarantined_at",
    "reviewed_at", "updated_at",
)
# ... then, since migration 011, what describes the full payload behind the excerpt.
QUARANTINE_DIGEST_COLUMNS = ("payload_sha256", "payload_length", "payload_truncated")
# ... then, since migration 014, how original_payload was redacted (contracts.redaction:
# 'redacted' or 'withheld'; NULL only for a row a writer from before redaction inserted).
QUARANTINE_REDACTION_COLUMNS = ("payload_redaction",)
QUARANTINE_COLUMNS = (QUARANTINE_LETTER_COLUMNS + QUARANTINE_REVIEW_COLUMNS
                      + QUARANTINE_DIGEST_COLUMNS + QUARANTINE_REDACTION_COLUMNS)

# The PostgreSQL quarantine columns bronze.payment_events_quarantine leaves out. The lake
# keeps the redacted excerpt, the source coordinates that address the original on its raw
# topic, the original's sha256 and how the excerpt was redacted (both added to the lake
# table by batch when it loads, issue 15); length and truncation stay in PostgreSQL.
LAKE_OMITS_QUARANTINE = ("payload_length", "payload_truncated")

# payments (migration 012): one row per (provider, payment_id), the current state that
# contracts.payment_state folds from its events. merge_state is the writer's lattice; the
# stamps are set by column defaults and by the store.
PAYMENT_KEY_COLUMNS = ("provider", "payment_id")
PAYMENT_STATE_COLUMNS = (
    "status", "currency", "amount", "amount_captured", "amount_refunded", "amount_disputed",
    "last_event_id", "last_event_at",
)
PAYMENT_COLUMNS = (PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS
                   + ("merge_state", "created_at", "updated_at"))

# The lakehouse as its readers name it (ARCHITECTURE.md, "Storage names"): batch creates and
# loads these tables; orchestration's trace only reads them, so it takes the names from here.
# tests/unit/orchestration/test_trace_settings.py pins batch's names equal to these.
LAKE_CATALOG_NAME = "lakehouse"
LAKE_PAYMENT_EVENTS = ("bronze", "payment_events")
LAKE_QUARANTINE = ("bronze", "payment_events_quarantine")
