"""The starter worker: payments.normalized / payments.validation.dlq -> Temporal workflows.

Run: ``faust -A streams.starter worker -l info`` (web on 127.0.0.1:6067).
Each event's offset moves only after Temporal accepted the signal-with-start; until then
the call is retried, so a Temporal outage delays events but never drops one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import EventT, StreamT

from contracts.dead_letters import ValidationIssue
from streams import views
from streams.codecs import (
    UndecodableMessageError,
    build_dead_letter,
    decode_dead_letter,
    decode_event,
)
from streams.logs import use_json_logs
from streams.metrics import AgentCounters
from streams.settings import StreamsSettings
from streams.workflow_starts import DLQ_REVIEW, PAYMENT_EVENT, WorkflowStarter, WorkflowTarget
from telemetry import bind_event_id

log = logging.getLogger(__name__)
settings = StreamsSettings()

app = faust.App(
    settings.STARTER_APP_ID,
    **settings.worker_app_options(settings.STARTER_APP_ID, 6067),
    store="memory://",  # the starter keeps no state; Temporal's workflow ids dedup
    # Don't wait at shutdown for events stuck retrying against an absent Temporal: they
    # are unacked, so they are simply redelivered to the next worker.
    stream_wait_empty=False,
)

normalized_topic = app.topic(settings.TOPIC_NORMALIZED, key_type=bytes, value_type=bytes,
                             key_serializer="raw", value_serializer="raw")
dlq_topic = app.topic(settings.TOPIC_VALIDATION_DLQ, key_type=bytes, value_type=bytes,
                      key_serializer="raw", value_serializer="raw")
counters = AgentCounters("starter")
starter = WorkflowStarter(settings.TEMPORAL_TARGET, settings.TEMPORAL_NAMESPACE,
                          settings.TEMPORAL_TASK_QUEUE, settings.STARTER_RETRY_MAX_SECONDS)


def decode_for_start(event: EventT) -> tuple[WorkflowTarget, str, Any]:
    """The workflow, event id and argument for one output-topic message.

    A message that does not decode is not dropped: it goes to review as a dead letter
    keyed by its coordinates, so a bug upstream is visible and nothing is lost.
    """
    message = event.message
    raw = bytes(message.value or b"")
    try:
        if message.topic == settings.TOPIC_VALIDATION_DLQ:
            letter = decode_dead_letter(raw)
            return DLQ_REVIEW, letter.event_id, letter
        payment = decode_event(raw)
        return PAYMENT_EVENT, payment.event_id, payment
    except UndecodableMessageError as exc:
        issue = ValidationIssue("starter.undecodable", str(exc))
        letter = build_dead_letter(raw, [issue], topic=message.topic, partition=message.partition,
                                   offset=message.offset, failed_at=datetime.now(UTC),
                                   stage="start")
        return DLQ_REVIEW, letter.event_id, letter


async def start_message(event: EventT, agent: str) -> str:
    """Signal-with-start the workflow for one message; returns the outcome."""
    target, event_id, arg = decode_for_start(event)
    bind_event_id(event_id)
    try:
        counters.add(agent, "processed")
        outcome = await starter.signal_with_start(
            target, event_id, arg, on_retry=lambda: counters.add(agent, "retried"))
        counters.add(agent, outcome)
        log.info("workflow %s: %s", target.workflow, outcome)
        return outcome
    finally:
        bind_event_id(None)


async def _start_stream(stream: StreamT[bytes], agent: str) -> None:
    # Manual acks: faust acks an event in a `finally` even when the body raised or was
    # cancelled (e.g. at shutdown while Temporal is down), which would commit past it.
    manual = stream.noack()
    async for event in manual.events():
        await start_message(event, agent)
        await manual.ack(event)


@app.agent(normalized_topic, name="start-payment-workflows",
           concurrency=settings.STARTER_CONCURRENCY)
async def start_payment_workflows(stream: StreamT[bytes]) -> None:
    """Start (or signal) PaymentEventWorkflow for each normalized event."""
    await _start_stream(stream, "normalized")


@app.agent(dlq_topic, name="start-dlq-reviews", concurrency=settings.STARTER_CONCURRENCY)
async def start_dlq_reviews(stream: StreamT[bytes]) -> None:
    """Start (or signal) DLQReviewWorkflow for each dead letter."""
    await _start_stream(stream, "dead_letter")


@app.task
async def configure_logs() -> None:
    """Switch to JSON logs once faust's worker has set up its own logging."""
    use_json_logs("streams.starter", settings.LOG_LEVEL)


async def ready(app_: faust.App) -> tuple[bool, dict[str, Any]]:
    """Consumer assigned, broker reachable and Temporal healthy."""
    ok, details = await views.consumer_ready(app_)
    try:
        details["temporal"] = await starter.check_health()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as such
        details["temporal"], details["temporal_error"] = False, repr(exc)
    return ok and details["temporal"], details


views.register_health(app, counters, check_ready=ready)
