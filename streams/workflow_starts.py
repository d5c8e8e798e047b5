"""The only Temporal I/O in streams: signal-with-start by workflow type name.

Workflows are named by string so streams never imports orchestration. Idempotency comes
from the workflow id: a running workflow gets the signal (USE_EXISTING), and a closed one
refuses a second run (REJECT_DUPLICATE raises WorkflowAlreadyStartedError) -- already done.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from streams.publishing import retry_forever

log = logging.getLogger(__name__)

# Failures worth retrying: the server or the network. Connect errors are RuntimeErrors.
RETRYABLE = (RPCError, RuntimeError, asyncio.TimeoutError, ConnectionError)


@dataclass(frozen=True, slots=True)
class WorkflowTarget:
    workflow: str  # the workflow type name registered by orchestration
    id_prefix: str
    signal: str


PAYMENT_EVENT = WorkflowTarget("PaymentEventWorkflow", "payment-event", "event_received")
DLQ_REVIEW = WorkflowTarget("DLQReviewWorkflow", "dlq-review", "dead_letter_received")


def workflow_id(target: WorkflowTarget, event_id: str) -> str:
    return f"{target.id_prefix}:{event_id}"


class WorkflowStarter:
    """Signal-with-start against one namespace and task queue, with a lazily made client."""

    def __init__(self, target: str, namespace: str, task_queue: str,
                 retry_cap_seconds: float = 30.0) -> None:
        self.target, self.namespace, self.task_queue = target, namespace, task_queue
        self.retry_cap_seconds = retry_cap_seconds
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None:
                self._client = await Client.connect(self.target, namespace=self.namespace)
            return self._client

    async def check_health(self) -> bool:
        client = await asyncio.wait_for(self.client(), 5)
        return await asyncio.wait_for(client.service_client.check_health(), 5)

    async def signal_with_start(self, target: WorkflowTarget, event_id: str, arg: Any,
                                on_retry=None) -> str:
        """Start or signal the event's workflow; returns "started", "signalled" or "already_done".

        Retries until Temporal accepts the call: the caller's offset must not move before.
        """
        wf_id = workflow_id(target, event_id)

        async def attempt() -> str:
            client = await self.client()
            try:
                handle = await client.start_workflow(
                    target.workflow, arg, id=wf_id, task_queue=self.task_queue,
                    start_signal=target.signal, start_signal_args=[arg],
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                )
            except WorkflowAlreadyStartedError:
                # The workflow for this event ran to completion already: nothing to do.
                return "already_done"
            response = getattr(handle, "_start_workflow_response", None)
            started = getattr(response, "started", True)
            return "started" if started else "signalled"

        return await retry_forever(attempt, retryable=RETRYABLE, what=f"signal-with-start {wf_id}",
                                   cap_seconds=self.retry_cap_seconds, on_retry=on_retry)
