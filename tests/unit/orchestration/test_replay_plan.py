"""The replay's pure planning: window, offset ranges, grouping, missing, headers, throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.providers import ORIGIN_HEADER
from orchestration.replay_plan import (
    RawRecord,
    ReplayResult,
    Window,
    due_at,
    event_key,
    format_report,
    group_records,
    offset_ranges,
    parse_instant,
    plan_replay,
    replay_headers,
)

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
PI, CHARGE = "webhooks.stripe.payment_intent", "webhooks.stripe.charge"


def record(key: bytes | None, offset: int, *, topic: str = PI, partition: int = 0,
           at_ms: int = T0_MS, headers=()) -> RawRecord:
    return RawRecord(topic, partition, offset, at_ms, key, b"{}", tuple(headers))


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01T10:00:00Z", T0),
    ("2026-12-01T11:00:00+01:00", T0),
    ("2026-12-01T10:00:00.250Z", T0 + timedelta(milliseconds=250)),
])
def test_parse_instant_reads_rfc3339_as_utc(text, expected):
    assert parse_instant(text) == expected
    assert parse_instant(text).tzinfo == UTC


@pytest.mark.parametrize(("text", "message"), [
    ("2026-12-01T10:00:00", "no UTC offset"), ("yesterday", "not an RFC 3339"),
    ("", "not an RFC 3339"),
])
def test_parse_instant_refuses_what_it_would_have_to_guess(text, message):
    with pytest.raises(ValueError, match=message):
        parse_instant(text)


def test_window_is_half_open_in_kafka_milliseconds():
    window = Window(T0, T0 + timedelta(seconds=1))
    assert (window.since_ms, window.until_ms) == (T0_MS, T0_MS + 1000)
    assert window.holds(T0_MS) and window.holds(T0_MS + 999)
    assert not window.holds(T0_MS - 1) and not window.holds(T0_MS + 1000)


def test_an_empty_or_backwards_window_is_refused():
    with pytest.raises(ValueError, match="must be before"):
        Window(T0, T0)


def test_offset_ranges_from_offsets_for_times():
    tps = [(PI, 0), (PI, 1), (PI, 2), (CHARGE, 0)]
    ranges = offset_ranges(
        starts={(PI, 0): 5, (PI, 1): None, (PI, 2): 7, (CHARGE, 0): 3},
        ends={(PI, 0): 9, (PI, 1): None, (PI, 2): None, (CHARGE, 0): 3},
        log_ends=dict(zip(tps, [20, 4, 12, 8], strict=True)))
    # (PI,1): nothing at or after since; (PI,2): runs to the log's end; (CHARGE,0): empty.
    assert [(r.topic, r.partition, r.start, r.end, r.size) for r in ranges] == [
        (PI, 0, 5, 9, 4), (PI, 2, 7, 12, 5)]


def test_an_end_past_the_log_end_is_clipped():
    [r] = offset_ranges({(PI, 0): 2}, {(PI, 0): 50}, {(PI, 0): 10})
    assert (r.start, r.end) == (2, 10)


@pytest.mark.parametrize(("key", "expected"), [
    (b"evt_1", "evt_1"), (b"psp:AUTHORISATION:true", "psp:AUTHORISATION:true"),
    (None, None), (b"", None), (b"  ", None), (b"\xff\xfe", None)])
def test_event_key_is_the_raw_key_when_usable(key, expected):
    assert event_key(record(key, 0)) == expected


def test_a_redelivery_is_one_event_whose_first_copy_is_the_earliest():
    late = record(b"evt_a", 9, partition=1, at_ms=T0_MS + 50)
    early = record(b"evt_a", 3, partition=1, at_ms=T0_MS + 10)
    other = record(b"evt_b", 4)
    unkeyed = record(None, 5)
    events, without = group_records("stripe", [late, other, early, unkeyed])
    assert set(events) == {"evt_a", "evt_b"}
    assert events["evt_a"].event_id == "stripe:evt_a"
    assert events["evt_a"].copies == [early, late]
    assert without == [unkeyed]


def test_missing_is_what_neither_table_holds_by_id_or_payload():
    poison = RawRecord(PI, 0, 3, T0_MS, b"evt_poison", b'{"id": null}')
    records = [record(b"evt_held", 0), record(b"evt_lost", 1), record(b"evt_lost", 2), poison,
               record(None, 4)]
    events, unkeyed = group_records("stripe", records)
    plan = plan_replay(events, unkeyed, held_ids={"evt_held"}, held_payloads={poison.payload})
    assert [c.provider_event_id for c in plan.missing] == ["evt_lost"]
    assert plan.missing[0].first.offset == 1
    assert (plan.scanned, plan.events, plan.held, plan.redeliveries) == (5, 3, 2, 1)
    assert [r.offset for r in plan.unkeyed] == [4]


def test_a_letter_naming_no_id_holds_every_copy_of_its_record():
    # Filed under the coordinates of a later copy (an earlier replay's): the bytes match.
    first = RawRecord(PI, 0, 1, T0_MS, b"evt_x", b'{"id": null}')
    copy = RawRecord(PI, 0, 8, T0_MS + 5, b"evt_x", b'{"id": null}')
    events, _ = group_records("stripe", [first])
    assert plan_replay(events, [], set(), {copy.payload}).missing == []
    other_topic = RawRecord(CHARGE, 0, 8, T0_MS, b"evt_x", b'{"id": null}')
    assert len(plan_replay(events, [], set(), {other_topic.payload}).missing) == 1


def test_the_payload_is_the_topic_and_the_sha256_of_the_whole_value():
    import hashlib
    assert record(b"k", 0).payload == (PI, hashlib.sha256(b"{}").hexdigest())


@given(st.lists(st.tuples(st.sampled_from([b"evt_1", b"evt_2", b"evt_3", None]),
                          st.integers(0, 2)), max_size=30),
       st.sets(st.sampled_from(["evt_1", "evt_2", "evt_3"])))
def test_every_event_is_held_or_missing_once(raw, held):
    records = [record(key, offset, partition=p) for offset, (key, p) in enumerate(raw)]
    events, unkeyed = group_records("stripe", records)
    plan = plan_replay(events, unkeyed, held, set())
    ids = [c.provider_event_id for c in plan.missing]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(events) - held
    assert plan.held + len(plan.missing) == plan.events == len(events)
    assert plan.scanned == len(records)


def test_replay_headers_keep_the_record_s_own_and_add_the_origin_once():
    own = [("provider", b"stripe"), ("event_type", b"charge.succeeded"),
           ("received_at", b"2026-12-01T10:00:00Z"), ("request_id", b"r1")]
    assert replay_headers(own) == [*own, (ORIGIN_HEADER, b"replay")]
    again = replay_headers([*own, (ORIGIN_HEADER, b"reconciliation")])
    assert again == [*own, (ORIGIN_HEADER, b"replay")]


def test_the_throttle_spaces_sends_one_rate_apart():
    assert [due_at(i, 4) for i in range(5)] == [0, 0.25, 0.5, 0.75, 1.0]
    assert due_at(20, 20) == 1.0
    with pytest.raises(ValueError):
        due_at(1, 0)


@given(st.integers(1, 500), st.floats(0.1, 1000))
def test_no_window_of_a_second_holds_more_than_rate_sends(n, rate):
    times = [due_at(i, rate) for i in range(n)]
    for start in times:
        assert sum(1 for t in times if start <= t < start + 1) <= int(rate) + 1


def test_the_report_lists_missing_then_counts():
    events, unkeyed = group_records("stripe", [record(b"evt_lost", 7), record(b"evt_ok", 8)])
    plan = plan_replay(events, unkeyed, {"evt_ok"}, set())
    window = Window(T0, T0 + timedelta(hours=1))
    text = format_report("stripe", window, "", False, ReplayResult(plan))
    lines = text.splitlines()
    assert "stripe:evt_lost" in lines[1] and f"{PI}/0@7" in lines[1]
    assert lines[-1].endswith("held 1, missing 1, no event id 0, re-driven 0 "
                              "(dry run: --apply re-drives)")
    complete = plan_replay(events, unkeyed, {"evt_ok", "evt_lost"}, set())
    assert format_report("stripe", window, "", True, ReplayResult(complete)).count("\n") == 0
