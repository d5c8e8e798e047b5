"""The Temporal names that the starter (streams) and the worker (orchestration) share.

Streams starts workflows by type name, so it never imports orchestration; the names are
wire values, defined here once for both sides (and for infra, bench and the tests).
Renaming any of them strands what is already in flight: a running workflow keeps the
type, id and signal names it was started with, and a completed id no longer deduplicates
a redelivery. tests/unit/contracts/test_contracts_workflows.py pins the values.
"""

from dataclasses import dataclass

# The task queue the worker polls and the starter starts on, unless settings say otherwise
# (ORCHESTRATOR_TASK_QUEUE, STREAMS_TEMPORAL_TASK_QUEUE: they must stay equal).
DEFAULT_TASK_QUEUE = "payments"

# Every workflow answers this query with its status dataclass (orchestration.models).
STATUS_QUERY = "status"
# A reviewer's verdict on a quarantined event, sent to its DLQ review workflow.
REVIEW_DECISION_SIGNAL = "review_decision"


@dataclass(frozen=True, slots=True)
class WorkflowTarget:
    """One workflow type, as the starter addresses it: signal-with-start by id."""

    workflow: str  # the workflow type name orchestration registers
    id_prefix: str  # the workflow id is ``<id_prefix>:<unified event id>``
    signal: str  # the start signal; every (re)delivery sends it


PAYMENT_EVENT = WorkflowTarget("PaymentEventWorkflow", "payment-event", "event_received")
DLQ_REVIEW = WorkflowTarget("DLQReviewWorkflow", "dlq-review", "dead_letter_received")
WORKFLOW_TYPES = (PAYMENT_EVENT.workflow, DLQ_REVIEW.workflow)


def workflow_id(target: WorkflowTarget, event_id: str) -> str:
    """The one id of the event's workflow, so every delivery reaches the same run."""
    return f"{target.id_prefix}:{event_id}"
