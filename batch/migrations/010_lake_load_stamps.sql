-- Stamps for the batch load into Iceberg (batch/, issue 7). Owned by batch.
--
-- Every insert or update stamps the row with the id of the writing transaction (xid8).
-- The loader reads rows whose stamp lies below the xmin of its own snapshot: every
-- transaction below that xmin has finished, so a row that commits late, with an older
-- timestamp or a lower id, still has a stamp at or above the last load's xmin and is
-- picked up by the next load. The watermark (the last xmin loaded) is committed inside
-- the Iceberg commit itself, so a failed write advances nothing and a crash after the
-- commit cannot load a row twice. No row is ever written back by the loader.
--
-- lake_created_xid tells the loader whether a row may already be in Iceberg (created
-- below the watermark: replace it by event_id) or is new (append only).

CREATE FUNCTION lake_stamp_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.lake_xid := pg_current_xact_id();
    IF TG_OP = 'INSERT' THEN
        NEW.lake_created_xid := NEW.lake_xid;
    ELSE
        -- A writer cannot move a row's creation stamp, or the loader would append a copy.
        NEW.lake_created_xid := OLD.lake_created_xid;
    END IF;
    RETURN NEW;
END
$$;

-- Rows that exist before this migration get the lowest normal xid, so the first load
-- takes them all and treats them as new.
ALTER TABLE payment_events
    ADD COLUMN lake_xid xid8,
    ADD COLUMN lake_created_xid xid8;
UPDATE payment_events SET lake_xid = '3', lake_created_xid = '3';
ALTER TABLE payment_events
    ALTER COLUMN lake_xid SET NOT NULL,
    ALTER COLUMN lake_created_xid SET NOT NULL;
CREATE INDEX payment_events_lake_xid_idx ON payment_events (lake_xid);
CREATE TRIGGER payment_events_lake_stamp
    BEFORE INSERT OR UPDATE ON payment_events
    FOR EACH ROW EXECUTE FUNCTION lake_stamp_row();

ALTER TABLE payment_events_quarantine
    ADD COLUMN lake_xid xid8,
    ADD COLUMN lake_created_xid xid8;
UPDATE payment_events_quarantine SET lake_xid = '3', lake_created_xid = '3';
ALTER TABLE payment_events_quarantine
    ALTER COLUMN lake_xid SET NOT NULL,
    ALTER COLUMN lake_created_xid SET NOT NULL;
CREATE INDEX payment_events_quarantine_lake_xid_idx ON payment_events_quarantine (lake_xid);
CREATE TRIGGER payment_events_quarantine_lake_stamp
    BEFORE INSERT OR UPDATE ON payment_events_quarantine
    FOR EACH ROW EXECUTE FUNCTION lake_stamp_row();
