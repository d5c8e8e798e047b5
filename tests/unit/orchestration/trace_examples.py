"""Traces built from findings, for the trace's unit tests (and the README's example output).

A payment of two Stripe events: the first delivered twice (the second copy deduplicated),
the second one dead-lettered and quarantined; the workflow of the first completed, and
Iceberg has loaded it but not the quarantine row yet.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from contracts.events import make_event_id
from orchestration.trace_report import (
    DeadLetterCopy,
    EventTrace,
    KafkaCopy,
    LakeFinding,
    NormalizerOutcome,
    PaymentTrace,
    Receipt,
    Rows,
    Scan,
    WorkflowFinding,
    found,
    judge_normalizer,
    not_found,
    temporal_ui_link,
)
from tests.builders import make_payment_event

UI = "http://127.0.0.1:8233"
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
PAYMENT_ID = "pi_3QdemoA1b2C3d4E5"


def _copy(topic: str, partition: int, offset: int, seconds: float, **headers: str) -> KafkaCopy:
    return KafkaCopy(topic, partition, offset, AT + timedelta(seconds=seconds), headers)


def _raw(offset: int, seconds: float, request_id: str, event_type: str,
         **extra: str) -> KafkaCopy:
    received = (AT + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    return _copy("webhooks.stripe.payment_intent", 1, offset, seconds, provider="stripe",
                 event_type=event_type, received_at=received, request_id=request_id, **extra)


def succeeded_event() -> EventTrace:
    event = make_payment_event(provider_event_id="evt_1QdemoSucceeded", payment_id=PAYMENT_ID,
                               provider_created_at=AT, processed_at=AT)
    copies = (_raw(4211, 0.2, "req-7f3a9c", "payment_intent.succeeded"),
              _raw(4388, 61.0, "req-81bb02", "payment_intent.succeeded"))
    output = _copy("payments.normalized", 2, 9120, 0.3)
    verdict, detail = judge_normalizer(len(copies), 1, ())
    wf_id = f"payment-event:{event.event_id}"
    row = {**dataclasses.asdict(event), "validation_status": "valid", "fraud_score": 0.08,
           "fraud_risk_level": "low", "retry_action": None,
           "ingested_at": AT + timedelta(seconds=1)}
    return EventTrace(
        event.event_id, "stripe", event.provider_event_id,
        Receipt(found("2 raw copies"), copies,
                scans=(Scan("webhooks.stripe.payment_intent", 1, 4100, 4500, True),)),
        NormalizerOutcome(found(), verdict, detail, (output,),
                          scans=(Scan("payments.normalized", 2, 9000, 9400, True),)),
        (WorkflowFinding(found(), "PaymentEventWorkflow", wf_id, "0193a1b2-run", "completed",
                         AT + timedelta(seconds=0.4), AT + timedelta(seconds=0.9),
                         temporal_ui_link(UI, "default", wf_id, "0193a1b2-run")),),
        Rows(found(), (row,)), Rows(not_found()),
        (LakeFinding("bronze.payment_events", found("1 row")),
         LakeFinding("bronze.payment_events_quarantine", not_found("not in PostgreSQL either"))))


def dead_lettered_event() -> EventTrace:
    event_id = make_event_id("stripe", "evt_1QdemoBroken")
    copy = _raw(4302, 30.0, "req-92cd11", "charge.refunded")
    letter = DeadLetterCopy(_copy("payments.validation.dlq", 0, 77, 30.1), event_id, "validate",
                            ("amount.not_integer",), ("amount is not an integer",),
                            copy.coordinates)
    verdict, detail = judge_normalizer(1, 0, (letter,))
    wf_id = f"dlq-review:{event_id}"
    quarantine = {"event_id": event_id, "provider": "stripe", "review_status": "pending",
                  "error_codes": ["amount.not_integer"], "reviewer": None,
                  "decision_reason": None, "source_topic": copy.topic,
                  "source_partition": copy.partition, "source_offset": copy.offset,
                  "quarantined_at": AT + timedelta(seconds=31), "reviewed_at": None}
    return EventTrace(
        event_id, "stripe", "evt_1QdemoBroken", Receipt(found("1 raw copy"), (copy,)),
        NormalizerOutcome(found(), verdict, detail, dead_letters=(letter,)),
        (WorkflowFinding(not_found("no such workflow, or past retention"), "PaymentEventWorkflow",
                         f"payment-event:{event_id}"),
         WorkflowFinding(found(), "DLQReviewWorkflow", wf_id, "0193a1c4-run", "running",
                         AT + timedelta(seconds=31), None,
                         temporal_ui_link(UI, "default", wf_id, "0193a1c4-run"))),
        Rows(not_found()), Rows(found(), (quarantine,)),
        (LakeFinding("bronze.payment_events", not_found("not in PostgreSQL either")),
         LakeFinding("bronze.payment_events_quarantine",
                     not_found("not yet: the next lakehouse_job run loads it"))))


def payment_trace() -> PaymentTrace:
    payment = {"provider": "stripe", "payment_id": PAYMENT_ID, "status": "succeeded",
               "currency": "USD", "amount": 4200, "amount_captured": 4200,
               "amount_refunded": 0, "amount_disputed": 0,
               "last_event_id": "stripe:evt_1QdemoSucceeded", "last_event_at": AT,
               "updated_at": AT + timedelta(seconds=1)}
    return PaymentTrace(PAYMENT_ID, "payment", "stripe", PAYMENT_ID, Rows(found(), (payment,)),
                        (succeeded_event(),))
