"""The store writes only what the data map keeps, on the real PostgreSQL: metadata through the
allow-list and free text without card numbers (a redelivery still compares equal), and a dead
letter's payload redacted whoever built the letter."""

from __future__ import annotations

import hashlib

import pytest
from conftest import fetch_row

from contracts.data_map import MASK
from orchestration.models import Enrichment, PersistInput, ValidationResult
from tests.builders import make_dead_letter, make_failed_event

pytestmark = pytest.mark.timeout(60)


async def test_the_event_row_keeps_allowed_metadata_and_masked_free_text(store, pg):
    event = make_failed_event(metadata={"order_id": "o-9", "email": "jenny@example.com"},
                              failure_message="card 4242424242424242 declined")
    request = PersistInput(event, ValidationResult(), Enrichment())
    assert await store.insert_payment_event(request) == "inserted"
    # The same event again (a redelivery) is a duplicate, not a conflict with what was cut.
    assert await store.insert_payment_event(request) == "duplicate"
    row = await fetch_row(pg, event.event_id)
    assert row["metadata"] == {"order_id": "o-9"}
    assert row["failure_message"] == f"card {MASK} declined"


async def test_a_letter_built_anywhere_is_quarantined_redacted(store, pg):
    raw = b'{"id": "evt_x", "billing_details": {"name": "Jenny Rosen"}, "exp_month": 3}'
    letter = make_dead_letter(payload=raw.decode())  # no redaction named, as an old letter
    try:
        assert await store.insert_quarantine(letter) == "pending"
        row = await store.get_quarantine(letter.event_id)
    finally:
        await pg.execute("DELETE FROM payment_events_quarantine WHERE event_id = $1",
                         letter.event_id)
    assert "Jenny Rosen" not in row["original_payload"]
    assert row["payload_redaction"] == "redacted"
    assert row["payload_sha256"] == hashlib.sha256(raw).hexdigest()
