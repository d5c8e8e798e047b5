-- Who decided what about each dead letter, when and why (issue 15, item 5): one row per
-- decision a DLQReviewWorkflow run takes, a reviewer's (approve, reject) or the review
-- timeout's (expire). The record_review activity writes it in the same transaction as the
-- quarantine row's review columns, keyed by (workflow_id, run_id): a run decides once, so a
-- retried activity finds its own row and adds nothing. Columns in the order of
-- orchestration.models.ReviewAudit (a unit test pins them).
--
-- The corrected event is never copied here, only its sha256 over canonical JSON
-- (contracts.workflows.corrected_event_sha256); the event itself is in the quarantine row
-- and, once re-driven, in payment_events. Rows are never changed or deleted (trigger below).

CREATE TABLE dlq_review_audit (
    id                     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id            text        NOT NULL,
    run_id                 text        NOT NULL,
    -- The Temporal update that carried the decision (its history event names the client's
    -- identity too); NULL for an expiry.
    update_id              text,
    event_id               text        NOT NULL,
    decision               text        NOT NULL CHECK (decision IN ('approve', 'reject', 'expire')),
    -- The caller's identity (contracts.workflows.REVIEWER_PATTERN), never free text: the OS
    -- account running the review CLI, or a configured one, as identity_source says.
    reviewer               text        CHECK (char_length(reviewer) BETWEEN 1 AND 128),
    identity_source        text        CHECK (identity_source IN ('os_user', 'configured')),
    reason                 text        NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
    corrected_event_sha256 text        CHECK (corrected_event_sha256 ~ '^[0-9a-f]{64}$'),
    -- When the workflow accepted the decision (workflow time, so a retry writes the same).
    decided_at             timestamptz NOT NULL,
    recorded_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workflow_id, run_id),
    -- A person approves or rejects; only the timeout expires, and it has no identity.
    CHECK ((decision = 'expire') = (reviewer IS NULL)),
    CHECK ((reviewer IS NULL) = (identity_source IS NULL)),
    CHECK ((decision = 'expire') = (update_id IS NULL)),
    CHECK (decision = 'approve' OR corrected_event_sha256 IS NULL)
);

CREATE INDEX dlq_review_audit_event_idx ON dlq_review_audit (event_id, decided_at);

CREATE FUNCTION dlq_review_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dlq_review_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER dlq_review_audit_append_only
    BEFORE UPDATE OR DELETE ON dlq_review_audit
    FOR EACH STATEMENT EXECUTE FUNCTION dlq_review_audit_append_only();
