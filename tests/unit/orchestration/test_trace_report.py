"""The trace's pure parts: the normalizer's verdict, resolving the query, and rendering."""

from __future__ import annotations

import json

import pytest

from contracts.providers import ORIGIN_HEADER, PROVIDER_NAMES, RAW_HEADERS, raw_headers
from orchestration.trace_render import render_text, to_json
from orchestration.trace_report import (
    DEAD_LETTERED,
    DEDUPLICATED,
    NEVER_RECEIVED,
    NORMALIZED,
    PENDING,
    REFUSED,
    DeadLetterCopy,
    KafkaCopy,
    PaymentTrace,
    Rows,
    judge_normalizer,
    raw_header_text,
    temporal_ui_link,
    unreachable,
)
from orchestration.trace_resolve import (
    EventRef,
    batch_keys,
    event_ref,
    guess_providers,
    resolve,
)
from tests.builders import make_payment_event
from tests.unit.orchestration.trace_examples import (
    PAYMENT_ID,
    dead_lettered_event,
    payment_trace,
    succeeded_event,
)


def letter(codes=("amount.not_integer",)) -> DeadLetterCopy:
    record = KafkaCopy("payments.validation.dlq", 0, 5, None)
    return DeadLetterCopy(record, "stripe:evt_x", "validate", codes, ("amount is text",),
                          "webhooks.stripe.charge:1:9")


@pytest.mark.parametrize(("copies", "outputs", "letters", "verdict"), [
    (0, 0, 0, NEVER_RECEIVED),
    (None, 0, 0, NEVER_RECEIVED),
    (2, 0, 0, PENDING),
    (1, 1, 0, NORMALIZED),
    (3, 1, 0, DEDUPLICATED),
    (1, 0, 1, DEAD_LETTERED),
    (2, 0, 1, DEAD_LETTERED),
    (1, 2, 0, NORMALIZED),  # replayed after a crash: twice on the topic, absorbed downstream
    (None, 1, 0, NORMALIZED),  # raw topics unreadable: what was emitted still says it
])
def test_the_normalizer_verdict_follows_copies_and_outputs(copies, outputs, letters, verdict):
    got, detail = judge_normalizer(copies, outputs, [letter()] * letters)
    assert got == verdict
    assert detail


def test_a_dead_letter_says_why_and_a_duplicate_how_many():
    assert judge_normalizer(1, 0, [letter()])[1] == (
        "dead-lettered: amount.not_integer at validate: amount is text")
    assert "2 later copies dropped as duplicates" in judge_normalizer(3, 1, [])[1]
    assert "normalized 2 times from 1 raw copy" in judge_normalizer(1, 2, [])[1]


def test_the_ui_link_escapes_the_workflow_id():
    link = temporal_ui_link("http://ui:8233/", "default", "payment-event:stripe:evt_1", "r-1")
    assert link == ("http://ui:8233/namespaces/default/workflows/"
                    "payment-event%3Astripe%3Aevt_1/r-1/history")
    assert temporal_ui_link("http://ui", "ns", "a/b", None) == "http://ui/namespaces/ns/workflows/a%2Fb"


def test_an_unreachable_reason_is_one_bounded_line():
    lookup = unreachable("OperationalError: refused\n\tIs the server running?\n" + "x" * 500)
    assert "\n" not in lookup.label and "\t" not in lookup.label
    assert len(lookup.why) == 300 and lookup.why.endswith("…")
    assert lookup.label.startswith("unreachable (OperationalError: refused Is the server")


def test_raw_headers_are_read_with_the_origin_and_nothing_else():
    headers = [*raw_headers("stripe", "charge.succeeded", "2026-12-01T09:30:00Z", "req-1"),
               (ORIGIN_HEADER, b"replay"), ("other", b"x"), ("provider", b"second")]
    text = raw_header_text(headers)
    assert set(text) == {*RAW_HEADERS, ORIGIN_HEADER}
    assert text["provider"] == "stripe" and text["request_id"] == "req-1"
    assert KafkaCopy("t", 0, 0, None, text).origin == "replay"
    assert KafkaCopy("t", 0, 0, None, {}).origin == "webhook"


def _row(event, **changes):
    return {"event_id": event.event_id, "provider": event.provider,
            "provider_event_id": event.provider_event_id, "payment_id": event.payment_id,
            **changes}


def test_a_payment_id_resolves_to_the_payment_and_its_events_in_order():
    first, second = (make_payment_event(payment_id="pi_1") for _ in range(2))
    payment = {"provider": "stripe", "payment_id": "pi_1"}
    what = resolve("pi_1", None, [_row(first), _row(second)], [payment], [])
    assert (what.kind, what.provider, what.payment_id) == ("payment", "stripe", "pi_1")
    assert what.refs == (event_ref("stripe", first.provider_event_id),
                         event_ref("stripe", second.provider_event_id))
    # Its events alone name it a payment too (the payments row may lag or be unreadable).
    assert resolve("pi_1", None, [_row(first)], [], []).kind == "payment"


def test_an_event_id_resolves_to_the_event_and_its_payment():
    event = make_payment_event(payment_id="pi_9")
    for query in (event.event_id, event.provider_event_id):
        what = resolve(query, None, [_row(event)], [], [])
        assert (what.kind, what.payment_id) == ("event", "pi_9")
        assert what.refs == (EventRef(event.event_id, "stripe", event.provider_event_id),)


def test_a_quarantined_event_resolves_by_its_row():
    rows = [{"event_id": "stripe:evt_bad", "provider": "stripe", "provider_event_id": "evt_bad"},
            {"event_id": "dlq:webhooks.stripe.charge:0:7", "provider": "stripe",
             "provider_event_id": None}]
    what = resolve("evt_bad", None, [], [], rows)
    assert what.refs == (event_ref("stripe", "evt_bad"),
                         EventRef("dlq:webhooks.stripe.charge:0:7", "stripe"))


def test_an_id_nothing_names_is_searched_as_an_event():
    assert resolve("adyen:PSP1:AUTHORISATION:true", None, [], [], []).refs == (
        event_ref("adyen", "PSP1:AUTHORISATION:true"),)
    assert resolve("evt_lost", None, [], [], []).refs == tuple(
        event_ref(provider, "evt_lost") for provider in PROVIDER_NAMES)
    assert resolve("evt_lost", "stripe", [], [], []).refs == (event_ref("stripe", "evt_lost"),)
    assert guess_providers("square") == ("square",)
    assert guess_providers(None) == PROVIDER_NAMES


def test_the_text_has_one_section_per_stage():
    text = render_text(payment_trace())
    assert text.startswith(f"trace of {PAYMENT_ID} (payment)")
    for line in (f"[payment stripe:{PAYMENT_ID}] found", "status=succeeded",
                 "[gateway receipt] found (2 raw copies)", "request_id=req-7f3a9c",
                 "webhooks.stripe.payment_intent:1:4388", "origin=webhook",
                 "[normalizer] found: deduplicated", "1 later copy dropped as duplicates",
                 "[workflow PaymentEventWorkflow] found: payment-event:stripe:evt_1QdemoSucceeded",
                 "status=completed", "/workflows/payment-event%3Astripe%3Aevt_1QdemoSucceeded/",
                 "[payment_events] found", "[quarantine] not found",
                 "[iceberg bronze.payment_events] found (1 row)"):
        assert line in text, line


def test_a_dead_lettered_event_shows_why_and_its_review():
    trace = PaymentTrace("stripe:evt_1QdemoBroken", "event", "stripe", None,
                         Rows(unreachable("PostgreSQL: ConnectionRefusedError")),
                         (dead_lettered_event(),))
    text = render_text(trace)
    for line in ("[normalizer] found: dead lettered",
                 "dead-lettered: amount.not_integer at validate: amount is not an integer",
                 "from webhooks.stripe.payment_intent:1:4302",
                 "[workflow PaymentEventWorkflow] not found (no such workflow, or past retention)",
                 "[workflow DLQReviewWorkflow] found", "status=running",
                 "[quarantine] found", "review_status=pending error_codes=amount.not_integer",
                 "[iceberg bronze.payment_events_quarantine] not found (not yet: "):
        assert line in text, line


def test_json_carries_every_finding():
    data = to_json(payment_trace())
    json.dumps(data)  # plain JSON, datetimes as text
    event = data["events"][0]
    assert event["receipt"]["lookup"] == {"state": "found", "why": "2 raw copies",
                                          "label": "found (2 raw copies)"}
    assert [c["headers"]["request_id"] for c in event["receipt"]["copies"]] == [
        "req-7f3a9c", "req-81bb02"]
    assert event["receipt"]["copies"][0]["origin"] == "webhook"
    assert event["normalizer"]["verdict"] == "deduplicated"
    assert event["workflows"][0]["status"] == "completed"
    assert event["event_rows"]["rows"][0]["payment_id"] == PAYMENT_ID
    assert data["payment"]["rows"][0]["last_event_at"] == "2026-12-01T09:30:00+00:00"
    letter_json = to_json(PaymentTrace("q", "event", None, None, Rows(unreachable("x")),
                                       (dead_lettered_event(),)))
    assert letter_json["events"][0]["normalizer"]["dead_letters"][0]["why"].startswith(
        "amount.not_integer")


def test_the_example_renders():
    # The README's example output is this rendering (until the lead's demo run replaces it).
    assert render_text(payment_trace()).count("== event ") == 1
    assert succeeded_event().normalizer.verdict == DEDUPLICATED


def test_a_webhook_the_gateway_refused_never_reached_the_normalizer():
    verdict, detail = judge_normalizer(0, 0, [], refused=1)
    assert verdict == REFUSED and "webhooks.dlq" in detail
    assert judge_normalizer(1, 0, [], refused=1)[0] == PENDING


def test_a_row_the_batched_mode_wrote_names_its_batch_workflow():
    rows = [{"workflow_id": "payment-batch:abc"}, {"workflow_id": "payment-event:stripe:evt_1"},
            {"workflow_id": None}, {}, {"workflow_id": "payment-batch:abc"},
            {"workflow_id": "payment-batch:def"}]
    assert batch_keys(rows) == ["abc", "def"]
