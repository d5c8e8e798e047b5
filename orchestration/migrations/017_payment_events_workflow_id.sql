-- Which Temporal workflow wrote each payment_events row (issue 19, micro-batches): with
-- the batched mode an event's row is written by `payment-batch:<batch key>`, not by a
-- `payment-event:<event_id>` workflow, and the trace (`python -m orchestration.trace`)
-- needs the id to find it. Both modes fill it (contracts.storage.WRITER_COLUMNS); rows
-- written before this migration keep NULL: their writer was `payment-event:<event_id>`.
-- A duplicate delivery never changes it, so it names the workflow that inserted the row.
--
-- No index: a trace reads it from the event's own row. Finding every row of one batch
-- scans the table, as a trace by payment id does.

ALTER TABLE payment_events
    ADD COLUMN workflow_id text CHECK (char_length(workflow_id) BETWEEN 1 AND 1000);
