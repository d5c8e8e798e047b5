"""Retry policies, timeouts and failure handling shared by the workflows.

Inference and persistence: 5 attempts with exponential backoff (1 s, 2 s, 4 s, 8 s);
business rules: 3 attempts 1 s apart; every activity has a start-to-close timeout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
PERSIST_ROUNDS = 10
PERSIST_ROUND_PAUSE = timedelta(minutes=1)

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
    return f"inference refused the request: {message}"


async def persist_in_rounds(write: Callable[[], Awaitable[T]], what: str) -> T:
    """Run a write activity; on exhausted retries pause durably and try another round."""
    for round_no in range(1, PERSIST_ROUNDS + 1):
        try:
            return await write()
        except FailureError as err:
            if isinstance(err, CancelledError):
                raise
            message, exhausted, error_type = read_failure(err)
            if not exhausted or round_no == PERSIST_ROUNDS:
                raise ApplicationError(f"{what} failed: {message}", type=error_type or
                                       "PersistFailed", non_retryable=True) from err
            workflow.logger.warning("%s: round %d failed (%s); pausing", what, round_no, message)
            await workflow.sleep(PERSIST_ROUND_PAUSE)
    raise ApplicationError(f"{what}: no rounds configured", non_retryable=True)
