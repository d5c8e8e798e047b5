-- Each payment's current state (issue 17): one row per (provider, payment_id), folded from its
-- payment_events rows by contracts.payment_state.apply in the same transaction as each new
-- row, so the two never disagree. Amounts are integer minor units of currency.
--
-- merge_state holds the lattice the columns derive from (each value's deciding event, and
-- one entry per refund and per dispute), so a new event merges in whatever order it comes
-- and a duplicate adds nothing. The columns are what readers query; merge_state is only for
-- the writer.

CREATE TABLE payments (
    provider         text        NOT NULL,
    payment_id       text        NOT NULL,
    status           text        NOT NULL CHECK (status IN (
                         'unknown', 'created', 'requires_action', 'processing', 'authorized',
                         'failed', 'canceled', 'succeeded')),
    currency         text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- NULL until a payment event names it: a refund or dispute can arrive first.
    amount           bigint      CHECK (amount >= 0),
    amount_captured  bigint      NOT NULL CHECK (amount_captured >= 0),
    amount_refunded  bigint      NOT NULL CHECK (amount_refunded >= 0),
    amount_disputed  bigint      NOT NULL CHECK (amount_disputed >= 0),
    last_event_id    text        NOT NULL,
    last_event_at    timestamptz NOT NULL,
    merge_state      jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, payment_id)
);

-- "How many payments are in each state" and the on-call's "which payments are stuck".
CREATE INDEX payments_status_idx ON payments (status, last_event_at);
