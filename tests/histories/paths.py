"""The paths recorded, each driven on the real server and checked to have gone where it says.

A recording returns its histories by file name; the approval's also returns the child
PaymentEventWorkflow it re-drove (a run started by a parent, with no start signal).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowHistory
from temporalio.exceptions import ApplicationError

from contracts import PaymentEvent
from contracts.workflows import (
    DLQ_REVIEW,
    PAYMENT_EVENT,
    REVIEW_DECISION_UPDATE,
    STATUS_QUERY,
    ReviewDecision,
    workflow_id,
)
from orchestration.models import (
    DLQReviewResult,
    DLQReviewStatus,
    PaymentEventResult,
    QuarantineRecord,
)
from orchestration.review_rules import decision_update_id
from tests.builders import event_json, make_dead_letter, make_failed_event, make_payment_event
from tests.histories.stand_ins import PATH_PREFIX, StandInActivities

QUEUE = "history-recorder"
CUSTOMER = "cus_history_1"
REVIEWER = "history-recorder"
# A review that is decided at once still waits this long at most; the expiry path waits 1 s.
REVIEW_TIMEOUT_SECONDS = 600

Histories = dict[str, WorkflowHistory]
Recording = Callable[[Client, StandInActivities], Awaitable[Histories]]


class PathNotTakenError(RuntimeError):
    """A recorded run did not end as its path says: the history would be mislabelled."""


@dataclass(frozen=True)
class PaymentPath:
    name: str
    overrides: dict[str, Any] = field(default_factory=dict)
    # Fields of PaymentEventResult, with enrichment_missing as {model: reason prefix}; or
    # failure: the ApplicationError type the run must fail with.
    expect: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None
    build: Callable[..., PaymentEvent] = make_payment_event


PAYMENT_PATHS = (
    PaymentPath("payment_succeeded", {"customer_id": CUSTOMER},
                {"fraud_score": 0.12, "churn_score": 0.31, "enrichment_missing": {}}),
    PaymentPath("payment_failed", {"customer_id": CUSTOMER},
                {"retry_action": "retry_later", "churn_score": 0.31, "enrichment_missing": {}},
                build=make_failed_event),
    PaymentPath("payment_without_customer", {},
                {"fraud_score": 0.12, "churn_score": None, "enrichment_missing": {}}),
    PaymentPath("payment_without_scores", {"event_type": "refund.created"},
                {"fraud_score": None, "retry_action": None, "churn_score": None}),
    PaymentPath("payment_invalid", {"customer_id": CUSTOMER, "amount_cents": 0},
                {"validation_status": "invalid", "fraud_score": None,
                 "enrichment_missing": {"fraud": "skipped:", "churn": "skipped:"}}),
    # Its 5 attempts take ~15 s, past the workflow task's 10 s: the worker heartbeats the
    # task, so this payment takes two workflow tasks (as a slow worker's do under load).
    PaymentPath("payment_score_unavailable", {"customer_id": CUSTOMER},
                {"churn_score": 0.31,
                 "enrichment_missing": {"fraud": "inference unavailable after 5 attempts"}}),
    PaymentPath("payment_score_refused", {"customer_id": CUSTOMER},
                {"churn_score": 0.31,
                 "enrichment_missing": {"retry": "inference refused the request"}},
                build=make_failed_event),
    # The second delivery arrives while the one workflow task runs: the server refuses that
    # task's completion (UnhandledCommand, a WorkflowTaskFailed in the history) and the
    # next task sees both deliveries.
    PaymentPath("payment_redelivered", {"customer_id": CUSTOMER}, {"deliveries": 2}),
    PaymentPath("payment_persist_second_round", {"customer_id": CUSTOMER},
                {"outcome": "inserted"}),
    PaymentPath("payment_persist_exhausted", {"customer_id": CUSTOMER},
                failure="ConnectionRefusedError"),
    PaymentPath("payment_persist_refused", {"customer_id": CUSTOMER}, failure="RowRejected"),
)


def check_payment(path: PaymentPath, outcome: PaymentEventResult | WorkflowFailureError) -> None:
    if path.failure is not None:
        cause = getattr(outcome, "cause", None)
        if not isinstance(cause, ApplicationError) or cause.type != path.failure:
            raise PathNotTakenError(f"{path.name}: expected a {path.failure} failure, "
                                    f"got {outcome!r}")
        return
    if isinstance(outcome, WorkflowFailureError):
        raise PathNotTakenError(f"{path.name}: the run failed: {outcome.cause!r}")
    for name, expected in path.expect.items():
        actual = getattr(outcome, name)
        if name == "enrichment_missing":
            matches = (actual.keys() == expected.keys()
                       and all(actual[k].startswith(v) for k, v in expected.items()))
        else:
            matches = actual == expected
        if not matches:
            raise PathNotTakenError(f"{path.name}: {name} is {actual!r}, expected {expected!r}")


async def history_of(client: Client, handle: WorkflowHandle) -> WorkflowHistory:
    return await client.get_workflow_handle(handle.id, run_id=handle.result_run_id
                                            ).fetch_history()


def payment_recording(path: PaymentPath) -> Recording:
    async def record(client: Client, activities: StandInActivities) -> Histories:
        event = path.build(provider_event_id=PATH_PREFIX + path.name,
                           payment_id=f"pi_history_{path.name}", **path.overrides)
        handle = await client.start_workflow(
            PAYMENT_EVENT.workflow, event, id=workflow_id(PAYMENT_EVENT, event.event_id),
            task_queue=QUEUE, result_type=PaymentEventResult,
            start_signal=PAYMENT_EVENT.signal, start_signal_args=[event])
        if path.name == "payment_redelivered":
            # The starter's redelivery of the same event, re-normalized a little later.
            await activities.validating[event.event_id].wait()
            again = replace(event, processed_at=event.processed_at + timedelta(seconds=30))
            await handle.signal(PAYMENT_EVENT.signal, again)
            activities.redelivered[event.event_id].set()
        try:
            outcome = await handle.result()
        except WorkflowFailureError as err:
            outcome = err
        check_payment(path, outcome)
        return {path.name: await history_of(client, handle)}

    return record


async def start_review(client: Client, letter) -> WorkflowHandle:
    """Signal-with-start, as the starter does."""
    return await client.start_workflow(
        DLQ_REVIEW.workflow, letter, id=workflow_id(DLQ_REVIEW, letter.event_id),
        task_queue=QUEUE, result_type=DLQReviewResult, start_signal=DLQ_REVIEW.signal,
        start_signal_args=[letter])


async def decide(handle: WorkflowHandle, decision: ReviewDecision) -> None:
    for _ in range(200):  # the validator refuses a decision while quarantining
        status = await handle.query(STATUS_QUERY, result_type=DLQReviewStatus)
        if status.review_status == "pending":
            break
        await asyncio.sleep(0.05)
    await handle.execute_update(REVIEW_DECISION_UPDATE, decision, result_type=DLQReviewStatus,
                                id=decision_update_id(decision))


def check_review(name: str, result: DLQReviewResult, status: str) -> None:
    if result.review_status != status:
        raise PathNotTakenError(f"{name}: the review ended {result.review_status}, not {status}")


def review_letters() -> dict[str, Any]:
    """The dead letter of each review path; their event ids key the quarantine answers."""
    corrected = make_payment_event(provider_event_id=PATH_PREFIX + "dlq_review_approved",
                                   payment_id="pi_history_dlq_review_approved",
                                   customer_id=CUSTOMER)
    return {
        "dlq_review_approved": (make_dead_letter(
            event_id=corrected.event_id, provider_event_id=corrected.provider_event_id,
            source_offset=1001), corrected),
        "dlq_review_rejected": (make_dead_letter(source_offset=1002), None),
        "dlq_review_expired": (make_dead_letter(source_offset=1003), None),
        "dlq_review_already_decided": (make_dead_letter(source_offset=1004), None),
    }


def review_recording(name: str) -> Recording:
    letter, corrected = review_letters()[name]

    async def record(client: Client, activities: StandInActivities) -> Histories:
        handle = await start_review(client, letter)
        histories: Histories = {}
        if name == "dlq_review_approved":
            await decide(handle, ReviewDecision("approve", REVIEWER, "configured",
                                                "amount corrected",
                                                corrected_event=event_json(corrected)))
            result = await handle.result()
            check_review(name, result, "approved")
            child = client.get_workflow_handle(workflow_id(PAYMENT_EVENT, corrected.event_id),
                                               result_type=PaymentEventResult)
            if (await child.result()).outcome != "inserted":
                raise PathNotTakenError(f"{name}: the re-driven payment was not inserted")
            histories["payment_redriven_by_review"] = await child.fetch_history()
        elif name == "dlq_review_rejected":
            await decide(handle, ReviewDecision("reject", REVIEWER, "configured", "test data"))
            check_review(name, await handle.result(), "rejected")
        elif name == "dlq_review_expired":
            check_review(name, await handle.result(), "expired")
        else:  # a redelivery of a letter whose review was decided in an earlier run
            check_review(name, await handle.result(), "rejected")
        histories[name] = await history_of(client, handle)
        return histories

    return record


def quarantine_answers() -> dict[str, QuarantineRecord]:
    """What persist_quarantine answers for each review path's letter."""
    answers = {"dlq_review_expired": QuarantineRecord("pending", 1),
               "dlq_review_already_decided": QuarantineRecord("rejected", REVIEW_TIMEOUT_SECONDS)}
    return {letter.event_id: answers.get(name, QuarantineRecord("pending",
                                                                REVIEW_TIMEOUT_SECONDS))
            for name, (letter, _) in review_letters().items()}


RECORDINGS: dict[str, Recording] = {
    **{path.name: payment_recording(path) for path in PAYMENT_PATHS},
    **{name: review_recording(name) for name in review_letters()},
}
