-- Dead letters carry a bounded excerpt of their payload (issue 14): original_payload now
-- holds that excerpt (at most 4 KiB of text, see contracts/limits.py), and these columns
-- describe the full payload, which stays on source_topic at source_partition/source_offset.
--
-- payload_sha256 and payload_length are NULL only for a row written from a dead letter
-- made before excerpts existed that was still in flight when this ran; rows already here
-- hold their whole payload, so they are filled in from it.

ALTER TABLE payment_events_quarantine
    ADD COLUMN payload_sha256    text    CHECK (payload_sha256 ~ '^[0-9a-f]{64}$'),
    ADD COLUMN payload_length    bigint  CHECK (payload_length >= 0),
    ADD COLUMN payload_truncated boolean NOT NULL DEFAULT false;

UPDATE payment_events_quarantine q
SET payload_sha256 = encode(sha256(b.bytes), 'hex'), payload_length = octet_length(b.bytes)
FROM (
    SELECT id, CASE payload_encoding
                   WHEN 'base64' THEN decode(original_payload, 'base64')
                   ELSE convert_to(original_payload, 'UTF8')
               END AS bytes
    FROM payment_events_quarantine
) b
WHERE q.id = b.id;
