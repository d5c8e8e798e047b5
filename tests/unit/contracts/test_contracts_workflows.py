"""The Temporal names both sides use come from contracts.workflows, and keep their values.

The values are pinned as literals on purpose: they are written into running workflows'
histories and ids, so a rename is a migration, never a refactor.
"""

from contracts.workflows import (
    DEFAULT_TASK_QUEUE,
    DLQ_REVIEW,
    PAYMENT_BATCH,
    PAYMENT_EVENT,
    REVIEW_DECISION_UPDATE,
    STATUS_QUERY,
    WORKFLOW_TYPES,
    workflow_id,
)
from orchestration.settings import OrchestratorSettings
from orchestration.workflows import DLQReviewWorkflow, PaymentBatchWorkflow, PaymentEventWorkflow
from streams.settings import StreamsSettings


def test_the_wire_names_keep_their_values():
    assert (PAYMENT_EVENT.workflow, PAYMENT_EVENT.id_prefix, PAYMENT_EVENT.signal) == (
        "PaymentEventWorkflow", "payment-event", "event_received")
    assert (DLQ_REVIEW.workflow, DLQ_REVIEW.id_prefix, DLQ_REVIEW.signal) == (
        "DLQReviewWorkflow", "dlq-review", "dead_letter_received")
    assert (REVIEW_DECISION_UPDATE, STATUS_QUERY, DEFAULT_TASK_QUEUE) == (
        "review_decision", "status", "payments")
    assert (PAYMENT_BATCH.workflow, PAYMENT_BATCH.id_prefix, PAYMENT_BATCH.signal) == (
        "PaymentBatchWorkflow", "payment-batch", "batch_received")
    assert WORKFLOW_TYPES == ("PaymentEventWorkflow", "DLQReviewWorkflow", "PaymentBatchWorkflow")


def test_a_workflow_id_is_the_prefix_and_the_unified_event_id():
    assert workflow_id(PAYMENT_EVENT, "stripe:evt_1") == "payment-event:stripe:evt_1"
    assert workflow_id(DLQ_REVIEW, "dlq:t:0:1") == "dlq-review:dlq:t:0:1"


def definition(cls):
    return cls.__temporal_workflow_definition  # temporalio's record of the decorators


def test_the_worker_registers_what_the_starter_addresses():
    payment, review = definition(PaymentEventWorkflow), definition(DLQReviewWorkflow)
    batch = definition(PaymentBatchWorkflow)
    assert (payment.name, review.name, batch.name) == WORKFLOW_TYPES
    assert set(batch.signals) == {PAYMENT_BATCH.signal}
    assert set(batch.queries) == {STATUS_QUERY} and not batch.updates
    assert set(payment.signals) == {PAYMENT_EVENT.signal}
    # A decision is an update, validated by the workflow so that the caller hears a refusal;
    # no signal can carry one past that validator.
    assert set(review.signals) == {DLQ_REVIEW.signal}
    assert set(review.updates) == {REVIEW_DECISION_UPDATE}
    assert review.updates[REVIEW_DECISION_UPDATE].validator is not None
    assert not payment.updates
    assert set(payment.queries) == set(review.queries) == {STATUS_QUERY}


def test_starter_and_worker_default_to_the_same_task_queue(monkeypatch):
    monkeypatch.delenv("STREAMS_TEMPORAL_TASK_QUEUE", raising=False)
    monkeypatch.delenv("ORCHESTRATOR_TASK_QUEUE", raising=False)
    monkeypatch.setenv("ORCHESTRATOR_POSTGRES_DSN",
                       "postgresql://payments_worker:unit-test-password-0123@db/payments")
    assert StreamsSettings().TEMPORAL_TASK_QUEUE == OrchestratorSettings().TASK_QUEUE
    assert OrchestratorSettings().TASK_QUEUE == DEFAULT_TASK_QUEUE
