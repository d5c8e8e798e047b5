"""Retry policies, timeouts and failure handling shared by the workflows.

Inference and persistence: 5 attempts with exponential backoff (1 s, 2 s, 4 s, 8 s);
business rules: 3 attempts 1 s apart; every activity has a start-to-close timeout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    FailureError,
    RetryState,
)

from contracts import ValidationIssue
from orchestration.models import PersistBudget

T = TypeVar("T")

RULES_TIMEOUT = timedelta(seconds=5)
RULES_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=1.0,
                          maximum_attempts=3)
INFERENCE_ATTEMPTS = 5
INFERENCE_TIMEOUT = timedelta(seconds=10)
INFERENCE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                              maximum_interval=timedelta(seconds=8),
                              maximum_attempts=INFERENCE_ATTEMPTS)
PERSIST_TIMEOUT = timedelta(seconds=10)
PERSIST_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                            maximum_interval=timedelta(seconds=8), maximum_attempts=5)
# A batch's scoring and writing steps (PaymentBatchWorkflow) serve up to BATCH_MAX_EVENTS
# events at once, each step's calls running concurrently, so they get more time per attempt
# than one event's; their retry policies are the per-event ones.
BATCH_STEP_TIMEOUT = timedelta(seconds=30)
PERSIST_ROUNDS = 10
PERSIST_ROUND_PAUSE = timedelta(minutes=1)
# The worker's budget (ORCHESTRATOR_PERSIST_ROUNDS, ..._ROUND_PAUSE_SECONDS), read by a
# local activity of this name the first time a round fails.
PERSIST_BUDGET_ACTIVITY = "persistence_budget"
PERSIST_BUDGET_PATCH = "persist-budget-from-worker"

def read_failure(err: FailureError) -> tuple[str, bool, str | None]:
    """(message, retries exhausted?, error type) of a failed activity, local or not.

    A remote activity's failure arrives wrapped in ActivityError with its retry state; a
    local activity's arrives as the activity's own error, so "not non-retryable" there
    means every attempt of the policy was used.
    """
    cause = err.cause if isinstance(err, ActivityError) and err.cause is not None else err
    message = cause.message if isinstance(cause, FailureError) else str(cause)
    error_type = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
    if isinstance(err, ActivityError):
        return message, err.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED, error_type
    non_retryable = isinstance(err, ApplicationError) and err.non_retryable
    return message, not non_retryable, error_type


def describe_failure(err: FailureError, attempts: int) -> str:
    """Why a score is missing, in words an analyst reading the row understands."""
    message, exhausted, _ = read_failure(err)
    if exhausted:
        return f"inference unavailable after {attempts} attempts: {message}"
    return describe_refusal(message)


def describe_refusal(message: str) -> str:
    """Why a score is missing when inference refused the event (never retried): the words of
    describe_failure, also for a refusal a batch's scoring step returns for one event."""
    return f"inference refused the request: {message}"


def describe_skip(issues: Sequence[ValidationIssue]) -> str:
    """Why an invalid event has no score: a score of an invalid event means nothing."""
    return f"skipped: the event broke business rules ({', '.join(i.code for i in issues)})"


async def score_or_reason(scorer: Callable[..., Awaitable[T]], arg: object,
                          step_timeout: timedelta) -> tuple[T | None, str | None]:
    """A scoring local activity's result, or (None, why it failed for good): a missing
    score never fails a payment. A cancellation is not a failure of the step: it goes on."""
    try:
        return await workflow.execute_local_activity_method(
            scorer, arg, start_to_close_timeout=step_timeout, retry_policy=INFERENCE_RETRY), None
    except FailureError as err:
        if isinstance(err, CancelledError):
            raise
        return None, describe_failure(err, INFERENCE_ATTEMPTS)


def read_worker_budget() -> Awaitable[PersistBudget]:
    """The worker's persistence budget, through a local activity (recorded in the history)."""
    return workflow.execute_local_activity(
        PERSIST_BUDGET_ACTIVITY, result_type=PersistBudget,
        start_to_close_timeout=RULES_TIMEOUT, retry_policy=RetryPolicy(maximum_attempts=1))


async def persist_in_rounds(write: Callable[[], Awaitable[T]], what: str,
                            budget: Callable[[], Awaitable[PersistBudget]] | None = None) -> T:
    """Run a write activity; on exhausted retries pause durably and try another round.

    The number of rounds and the pause are the worker's (``budget``), asked for only once a
    first round has failed, so a healthy write costs nothing more. The answer is a local
    activity's, recorded in the history: a replay, or a worker configured otherwise, takes
    the same path. Histories from before that question existed (workflow.patched), a worker
    that cannot answer, or no ``budget`` at all: the module's defaults apply.
    """
    rounds, pause = PERSIST_ROUNDS, PERSIST_ROUND_PAUSE
    round_no = 1
    while True:
        try:
            return await write()
        except FailureError as err:
            if isinstance(err, CancelledError):
                raise
            message, exhausted, error_type = read_failure(err)
            if (exhausted and round_no == 1 and budget is not None
                    and workflow.patched(PERSIST_BUDGET_PATCH)):
                rounds, pause = await _budget_or_defaults(budget)
            if not exhausted or round_no >= rounds:
                raise ApplicationError(f"{what} failed: {message}", type=error_type or
                                       "PersistFailed", non_retryable=True) from err
            workflow.logger.warning("%s: round %d of %d failed (%s); pausing", what, round_no,
                                    rounds, message)
            await workflow.sleep(pause)
            round_no += 1


async def _budget_or_defaults(
        budget: Callable[[], Awaitable[PersistBudget]]) -> tuple[int, timedelta]:
    try:
        configured = await budget()
    except FailureError as err:
        if isinstance(err, CancelledError):
            raise
        workflow.logger.warning("no persistence budget from the worker (%s); defaults apply",
                                err)
        return PERSIST_ROUNDS, PERSIST_ROUND_PAUSE
    return configured.rounds, timedelta(seconds=configured.round_pause_seconds)
