-- Right to erasure (issue 18, item 3): `python -m batch.erase --customer <id>` deletes a
-- customer's rows from PostgreSQL and the lake, as the payments_eraser role (infra/roles.py).
-- Owned by batch.
--
-- erased_customers is the tombstone list: the sha256 (hex, of the id's UTF-8) of every
-- erased customer id, never the id. The batch load leaves out rows whose customer_id hashes
-- into it, whatever its watermark says (a restored backup, a re-inserted row), and the
-- orchestration worker refuses to persist an event of an erased customer (a replay from a
-- raw topic). A digest of a guessable id can be confirmed by whoever guesses it: that is what
-- the list is for, and all it allows.
--
-- erasure_audit is one row per erasure run: who ran it, when, and what went (row counts per
-- table, the Iceberg snapshot ids expired and the files removed), never an erased value. The
-- customer is named only by the digest. Rows are never changed or deleted (trigger below).

CREATE TABLE erased_customers (
    customer_sha256 text        PRIMARY KEY CHECK (customer_sha256 ~ '^[0-9a-f]{64}$'),
    first_erased_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE erasure_audit (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    erasure_id        uuid        NOT NULL UNIQUE,
    customer_sha256   text        NOT NULL REFERENCES erased_customers (customer_sha256),
    outcome           text        NOT NULL CHECK (outcome IN ('completed', 'failed')),
    -- The caller (contracts.workflows.REVIEWER_PATTERN): the OS account running the command,
    -- or a configured one (ERASURE_IDENTITY), as identity_source says.
    operator          text        NOT NULL CHECK (char_length(operator) BETWEEN 1 AND 128),
    identity_source   text        NOT NULL CHECK (identity_source IN ('os_user', 'configured')),
    -- {"payment_events": 3, "payments": 1, "payment_events_quarantine": 0}
    postgres_rows     jsonb       NOT NULL,
    -- {"bronze.payment_events": 3, ...}: rows deleted from each Iceberg table's current state
    lake_rows         jsonb       NOT NULL,
    -- {"bronze.payment_events": [snapshot ids], ...}
    snapshots_expired jsonb       NOT NULL,
    -- {"bronze.payment_events": ["file:///…/00000-….parquet", ...], ...}: names are uuids
    files_removed     jsonb       NOT NULL,
    -- A failed run names the exception's class only: a message may quote the id.
    error             text        CHECK (char_length(error) <= 200),
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((outcome = 'failed') = (error IS NOT NULL))
);

CREATE INDEX erasure_audit_customer_idx ON erasure_audit (customer_sha256, started_at);

CREATE FUNCTION erasure_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'erasure_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER erasure_audit_append_only
    BEFORE UPDATE OR DELETE ON erasure_audit
    FOR EACH STATEMENT EXECUTE FUNCTION erasure_audit_append_only();
