"""The PaymentBatchWorkflow paths recorded, each checked to have gone where it says.

Each batch is started as the starter starts one: signal-with-start of ``batch_received`` by
``workflow_id(PAYMENT_BATCH, batch_key(ids))``, the events as input and signal argument. The
conflicting batch's recording also returns the child PaymentEventWorkflow its conflicting
event was handed to (started by a parent, with no start signal; it fails EventConflict).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from temporalio.client import Client, WorkflowFailureError

from contracts import PaymentEvent
from contracts.workflows import PAYMENT_BATCH, PAYMENT_EVENT, batch_key, workflow_id
from orchestration.models import PaymentBatchResult
from tests.builders import make_failed_event, make_payment_event
from tests.histories.paths import CUSTOMER, QUEUE, Histories, PathNotTakenError, Recording
from tests.histories.stand_ins import PATH_PREFIX, StandInActivities

# (builder, overrides, suffix): the suffix names what a stand-in does to that event.
Member = tuple[Callable[..., PaymentEvent], dict, str]
_PAID, _FAILED = make_payment_event, make_failed_event


@dataclass(frozen=True)
class BatchPath:
    name: str
    members: tuple[Member, ...]
    outcomes: dict[str, int]
    # batch position -> {model: reason prefix} its enrichment_missing must hold exactly
    missing: dict[int, dict[str, str]] = field(default_factory=dict)
    child: str | None = None  # the history name of the child a refused write starts


BATCH_PATHS = (
    # Every kind of payment at once: fraud + churn, retry + churn, fraud alone, no score.
    BatchPath("batch_mixed", (
        (_PAID, {"customer_id": CUSTOMER}, ""), (_FAILED, {"customer_id": CUSTOMER}, ""),
        (_PAID, {}, ""), (_FAILED, {}, ""), (_PAID, {"event_type": "refund.created"}, ""),
        (_PAID, {"customer_id": CUSTOMER, "amount_cents": 99}, "")),
        {"inserted": 6}, {i: {} for i in range(6)}),
    BatchPath("batch_with_invalid", (
        (_PAID, {"customer_id": CUSTOMER}, ""), (_PAID, {"customer_id": CUSTOMER,
                                                         "amount_cents": 0}, ""),
        (_FAILED, {}, "")),
        {"inserted": 3}, {0: {}, 1: {"fraud": "skipped:", "churn": "skipped:"}, 2: {}}),
    # The fraud step fails its 5 attempts (~15 s: two workflow tasks); one failed payment's
    # retry advice is refused; churn answers for all.
    BatchPath("batch_score_unavailable", (
        (_PAID, {"customer_id": CUSTOMER}, ""), (_PAID, {}, ""),
        (_FAILED, {"customer_id": CUSTOMER}, "_refused"), (_FAILED, {}, "")),
        {"inserted": 4},
        {0: {"fraud": "inference unavailable after 5 attempts"},
         1: {"fraud": "inference unavailable after 5 attempts"},
         2: {"retry": "inference refused the request"}, 3: {}}),
    BatchPath("batch_with_conflict", (
        (_PAID, {"customer_id": CUSTOMER}, ""), (_PAID, {}, "_conflicting"),
        (_FAILED, {}, "")),
        {"inserted": 2, "failed": 1}, child="payment_conflict_from_batch"),
)


def batch_events(path: BatchPath) -> list[PaymentEvent]:
    return [build(provider_event_id=f"{PATH_PREFIX}{path.name}_{n}{suffix}",
                  payment_id=f"pi_history_{path.name}_{n}", **overrides)
            for n, (build, overrides, suffix) in enumerate(path.members)]


def check_batch(path: BatchPath, result: PaymentBatchResult) -> None:
    if result.outcomes != path.outcomes:
        raise PathNotTakenError(f"{path.name}: outcomes {result.outcomes}, "
                                f"expected {path.outcomes}")
    for position, expected in path.missing.items():
        actual = result.events[position].enrichment_missing
        if actual.keys() != expected.keys() or not all(
                actual[k].startswith(v) for k, v in expected.items()):
            raise PathNotTakenError(f"{path.name}[{position}]: enrichment_missing {actual!r}, "
                                    f"expected {expected!r}")


def batch_recording(path: BatchPath) -> Recording:
    async def record(client: Client, activities: StandInActivities) -> Histories:
        events = batch_events(path)
        handle = await client.start_workflow(
            PAYMENT_BATCH.workflow, events,
            id=workflow_id(PAYMENT_BATCH, batch_key(e.event_id for e in events)),
            task_queue=QUEUE, result_type=PaymentBatchResult,
            start_signal=PAYMENT_BATCH.signal, start_signal_args=[events])
        try:
            result = await handle.result()
        except WorkflowFailureError as err:
            raise PathNotTakenError(f"{path.name}: the batch failed: {err.cause!r}") from err
        check_batch(path, result)
        histories = {path.name: await client.get_workflow_handle(
            handle.id, run_id=handle.result_run_id).fetch_history()}
        if path.child is not None:
            [handed] = [e for e in result.events if e.child_workflow_id]
            if handed.child_workflow_id != workflow_id(PAYMENT_EVENT, handed.event_id):
                raise PathNotTakenError(f"{path.name}: child {handed.child_workflow_id}")
            histories[path.child] = await client.get_workflow_handle(
                handed.child_workflow_id).fetch_history()
        return histories

    return record


BATCH_RECORDINGS: dict[str, Recording] = {path.name: batch_recording(path)
                                          for path in BATCH_PATHS}
