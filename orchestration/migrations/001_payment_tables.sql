-- The two tables of the storage contract (shared/ARCHITECTURE.md). Column names and types
-- follow contracts.events.PaymentEvent; tests/integration/test_schema_parity.py keeps them equal.
-- Text columns are unbounded TEXT: a VARCHAR(50) once cost every failed payment its row.

CREATE TABLE payment_events (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id             text        NOT NULL UNIQUE,
    provider             text        NOT NULL,
    provider_event_id    text        NOT NULL,
    event_type           text        NOT NULL,
    payment_id           text,
    merchant_id          text,
    customer_id          text,
    amount_cents         bigint      NOT NULL CHECK (amount_cents BETWEEN 0 AND 100000000),
    currency             text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    payment_method_type  text,
    card_brand           text,
    card_last_four       text        CHECK (card_last_four ~ '^[0-9]{4}$'),
    status               text        NOT NULL,
    failure_code         text,
    failure_message      text,
    metadata             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    provider_created_at  timestamptz NOT NULL,
    processed_at         timestamptz NOT NULL,
    schema_version       integer     NOT NULL,

    -- Enrichment. A score that inference could not give is NULL, with the reason beside it.
    fraud_score          double precision CHECK (fraud_score BETWEEN 0 AND 1),
    fraud_risk_level     text,
    fraud_model_version  text,
    retry_action         text,
    retry_delay_seconds  integer,
    retry_model_version  text,
    churn_score          double precision CHECK (churn_score BETWEEN 0 AND 1),
    churn_risk_level     text,
    churn_model_version  text,
    enrichment_missing   jsonb       NOT NULL DEFAULT '{}'::jsonb,

    validation_status    text        NOT NULL DEFAULT 'valid'
                         CHECK (validation_status IN ('valid', 'invalid')),
    validation_errors    jsonb       NOT NULL DEFAULT '[]'::jsonb,

    ingested_at          timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payment_events_customer_idx ON payment_events (customer_id, provider_created_at);

CREATE TABLE payment_events_quarantine (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id          text        NOT NULL UNIQUE,
    provider          text,
    provider_event_id text,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    original_payload  text        NOT NULL,
    -- Poison bytes that are not UTF-8 are kept losslessly as base64.
    payload_encoding  text        NOT NULL DEFAULT 'utf-8'
                      CHECK (payload_encoding IN ('utf-8', 'base64')),
    error_codes       text[]      NOT NULL,
    errors            jsonb       NOT NULL,
    review_status     text        NOT NULL DEFAULT 'pending'
                      CHECK (review_status IN ('pending', 'approved', 'rejected', 'expired')),
    reviewer          text,
    decision_reason   text,
    corrected_event   jsonb,
    quarantined_at    timestamptz NOT NULL DEFAULT now(),
    reviewed_at       timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payment_events_quarantine_status_idx ON payment_events_quarantine (review_status);
