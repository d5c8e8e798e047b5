"""contracts.providers: one provider list that every table covers, and the raw-key formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import topics
from contracts.providers import (
    CREDENTIAL_SETTINGS,
    PROVIDER_NAMES,
    RAW_TOPICS,
    Provider,
    adyen_key,
    braintree_key,
    braintree_key_has_kind,
    braintree_timestamp,
)
from gateway.providers.adyen import item_event_id
from gateway.providers.braintree import notification_event_id

# Ids as the providers send them: no colon in Adyen's, any printable text in a subject id.
_ID = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
              min_size=1, max_size=40)
_MOMENT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-5))]))


def test_one_provider_list_and_every_table_covers_it():
    assert PROVIDER_NAMES == ("stripe", "adyen", "braintree", "square")
    assert PROVIDER_NAMES == tuple(Provider)
    assert set(RAW_TOPICS) == set(CREDENTIAL_SETTINGS) == set(Provider)


def test_every_raw_topic_belongs_to_exactly_one_provider():
    assert [t for provider in Provider for t in RAW_TOPICS[provider]] == list(topics.RAW_TOPICS)


def test_adyen_key_is_psp_reference_event_code_success():
    assert adyen_key("7914073381342284", "AUTHORISATION", "true") == \
        "7914073381342284:AUTHORISATION:true"


def test_braintree_key_is_kind_subject_and_utc_second():
    eastern = timezone(timedelta(hours=-5))
    assert braintree_key("transaction_settled", "txn_1",
                         datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC)) == \
        "transaction_settled:txn_1:2026-01-02T03:04:05Z"
    assert braintree_timestamp(datetime(2026, 1, 1, 22, 0, tzinfo=eastern)) == \
        "2026-01-02T03:00:00Z"
    # The SDK hands over naive datetimes that are UTC already.
    assert braintree_timestamp(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"


@pytest.mark.parametrize(("key", "kind", "has"), [
    ("dispute_opened:dp_1:2026-01-02T03:04:05Z", "dispute_opened", True),
    ("dispute_opened:dp_1:2026-01-02T03:04:05Z", "dispute", False),
    ("dispute_opened", "dispute_opened", False),
])
def test_braintree_key_has_kind(key, kind, has):
    assert braintree_key_has_kind(key, kind) is has


# The gateway builds its keys on its own until phase 2 of issue 20 points it here; until
# then these prove both sides write the same key for the same notification.
@given(psp=_ID, code=_ID, success=st.sampled_from(["true", "false"]))
def test_the_gateway_keys_adyen_items_the_same(psp, code, success):
    item = {"pspReference": psp, "eventCode": code, "success": success}
    assert item_event_id(item) == adyen_key(psp, code, success)


@given(kind=_ID, subject_id=st.text(min_size=1, max_size=40), moment=_MOMENT)
def test_the_gateway_keys_braintree_notifications_the_same(kind, subject_id, moment):
    subject = {"transaction": {"id": subject_id}}
    assert notification_event_id(kind, moment, subject, b"") == \
        braintree_key(kind, subject_id, moment)
