-- Quarantine keeps a redacted payload (issue 15, the data map in contracts/data_map.py):
-- original_payload holds the dead letter's excerpt with card data and personal data masked
-- (contracts/redaction.py), payload_sha256 stays the digest of the original, and the original
-- itself is addressed by source_topic, source_partition and source_offset on its raw topic,
-- where `python -m orchestration.review show` reads it while the topic keeps it.
--
-- payload_redaction says how original_payload was made: 'redacted' (the data map's masks
-- applied), or 'withheld' (nothing kept: the payload was not readable text, or its excerpt
-- was written before redaction). NULL only for a row a writer from before this migration
-- inserted afterwards.
--
-- Rows already here hold excerpts from before redaction, which may carry card expiry,
-- fingerprints, names and addresses. SQL cannot apply the data map, so their excerpts are
-- withheld: digest, length and coordinates stay, and the original stays on its raw topic
-- for as long as the topic keeps it (7 days).

ALTER TABLE payment_events_quarantine
    ADD COLUMN payload_redaction text CHECK (payload_redaction IN ('redacted', 'withheld'));

UPDATE payment_events_quarantine
SET original_payload = '', payload_encoding = 'base64',
    payload_truncated = coalesce(payload_length, 1) > 0, payload_redaction = 'withheld',
    updated_at = now()
WHERE payload_redaction IS NULL;
