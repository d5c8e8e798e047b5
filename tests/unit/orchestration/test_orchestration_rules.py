"""Business rules and the parsing of reviewers' corrected events: pure, no I/O."""

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.rules import (
    CorrectedEventError,
    check_business_rules,
    parse_payment_event,
    read_original_payload,
    refuses_storage,
)
from tests.builders import make_dead_letter, make_failed_event, make_payment_event


def codes(event) -> list[str]:
    return [issue.code for issue in check_business_rules(event)]


def test_a_well_formed_success_and_failure_break_no_rule():
    assert codes(make_payment_event()) == []
    assert codes(make_failed_event()) == []


@pytest.mark.parametrize(("overrides", "code"), [
    ({"event_id": "stripe:other"}, "event_id.mismatch"),
    ({"provider": "paypal", "event_id": "paypal:evt_1", "provider_event_id": "evt_1"},
     "provider.unknown"),
    ({"event_type": "payment.exploded"}, "event_type.unknown"),
    ({"schema_version": 2}, "schema_version.unsupported"),
    ({"currency": "usd"}, "currency.malformed"),
    ({"currency": "XTS"}, "currency.unsupported"),
    ({"amount_cents": 100_000_001}, "amount.out_of_range"),
    ({"amount_cents": 0}, "amount.zero_success"),
    ({"failure_code": "card_declined"}, "failure_code.on_success"),
    ({"card_last_four": "42"}, "card_last_four.invalid"),
    ({"provider_created_at": datetime(2026, 1, 15, 12, 0)}, "timestamp.naive"),
    ({"provider_created_at": datetime(2026, 1, 16, tzinfo=UTC)}, "timestamp.order"),
])
def test_each_rule_names_what_it_found(overrides, code):
    assert code in codes(make_payment_event(**overrides))


def test_a_failure_without_a_code_is_invalid():
    assert codes(make_failed_event(failure_code=None)) == ["failure_code.missing"]


@settings(max_examples=50)
@given(amount=st.integers(min_value=-10, max_value=200_000_000))
def test_only_amounts_the_table_accepts_are_storable(amount):
    issues = check_business_rules(make_payment_event(amount_cents=amount))
    assert bool(refuses_storage(issues)) == (not 0 <= amount <= 100_000_000)


def test_a_corrected_event_round_trips_from_json():
    event = make_payment_event(provider_created_at=datetime(2026, 1, 1, tzinfo=UTC)
                               + timedelta(seconds=1))
    data = asdict(event)
    data["provider_created_at"] = "2026-01-01T00:00:01+00:00"
    data["processed_at"] = event.processed_at.isoformat()
    assert parse_payment_event(data) == event


@pytest.mark.parametrize(("data", "message"), [
    ({"surprise": 1}, "unknown fields"),
    ({"event_id": "x"}, "missing"),
    ([], "JSON object"),
])
def test_a_bad_corrected_event_says_why(data, message):
    with pytest.raises(CorrectedEventError, match=message):
        parse_payment_event(data)


def test_a_corrected_event_needs_real_timestamps_and_integer_amounts():
    data = asdict(make_payment_event())
    with pytest.raises(CorrectedEventError, match="amount_cents"):
        parse_payment_event({**data, "amount_cents": 12.5})
    with pytest.raises(CorrectedEventError, match="processed_at"):
        parse_payment_event({**data, "processed_at": "yesterday"})


def test_a_raw_provider_payload_cannot_stand_in_for_a_correction():
    letter = make_dead_letter()
    with pytest.raises(CorrectedEventError, match="unknown fields"):
        parse_payment_event(read_original_payload(letter))
    with pytest.raises(CorrectedEventError, match="binary"):
        read_original_payload(replace(letter, payload_encoding="base64"))


def test_a_renormalized_delivery_is_the_same_event():
    from orchestration.rules import differing_fields

    event = make_payment_event()
    later = replace(event, processed_at=event.processed_at + timedelta(hours=1))
    assert differing_fields(event, later) == []
    assert differing_fields(event, replace(event, amount_cents=1)) == ["amount_cents"]
