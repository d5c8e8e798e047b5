"""What the unified event may keep: metadata through the allow-list and its caps, free text
without card numbers or e-mail addresses; applying it twice is applying it once."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.data_map import (
    MASK,
    METADATA_ALLOWED_KEYS,
    METADATA_MAX_BYTES,
    METADATA_MAX_VALUE_CHARS,
)
from contracts.privacy import filter_metadata, protect_event, protect_event_json
from tests.builders import make_failed_event, make_payment_event

keys = st.sampled_from(METADATA_ALLOWED_KEYS) | st.text(max_size=12)
values = st.text(max_size=2 * METADATA_MAX_VALUE_CHARS) | st.integers() | st.none()


@settings(max_examples=300, deadline=None)
@given(metadata=st.dictionaries(keys, values, max_size=30))
def test_metadata_keeps_allowed_keys_only_within_its_caps(metadata):
    kept = filter_metadata(metadata)
    assert set(kept) <= set(METADATA_ALLOWED_KEYS)
    assert all(isinstance(v, str) and len(v) <= METADATA_MAX_VALUE_CHARS for v in kept.values())
    encoded = json.dumps(kept, ensure_ascii=False, separators=(",", ":"))
    assert len(encoded.encode("utf-8", "surrogatepass")) <= METADATA_MAX_BYTES
    assert filter_metadata(kept) == kept


def test_metadata_drops_what_merchants_add_and_masks_what_they_write():
    kept = filter_metadata({"order_id": "o-1", "email": "jenny@example.com",
                            "customer_name": "Jenny Rosen", "merchant_reference": "for a@b.co"})
    assert kept == {"order_id": "o-1", "merchant_reference": f"for {MASK}"}


def test_an_event_with_nothing_to_cut_is_the_same_object():
    event = make_payment_event(metadata={"order_id": "o-1"})
    assert protect_event(event) is event


def test_free_text_loses_card_numbers_and_addresses_and_keeps_brand_and_last_four():
    event = make_failed_event(failure_message="card 4242424242424242 of a@b.co declined",
                              metadata={"order": "o-1", "order_id": "o-2"})
    protected = protect_event(event)
    assert protected.failure_message == f"card {MASK} of {MASK} declined"
    assert protected.metadata == {"order_id": "o-2"}
    assert (protected.card_brand, protected.card_last_four) == ("visa", "4242")
    assert protect_event(protected) is protected


def test_a_reviewers_correction_is_cut_as_an_event_is():
    corrected = {"event_id": "stripe:evt_1", "metadata": {"order_id": "o", "email": "a@b.co"},
                 "failure_message": "card 4242424242424242", "amount_cents": 5}
    assert protect_event_json(corrected) == {
        "event_id": "stripe:evt_1", "metadata": {"order_id": "o"},
        "failure_message": f"card {MASK}", "amount_cents": 5}
