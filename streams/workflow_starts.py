"""The only Temporal I/O in streams: signal-with-start by workflow type name, errors classified.

Workflows are named by string, from contracts.workflows, so streams never imports
orchestration. Idempotency comes from the workflow id and the reuse policy
ALLOW_DUPLICATE_FAILED_ONLY:

* a running workflow gets the signal (conflict policy USE_EXISTING): "signalled";
* a completed one refuses a second run (WorkflowAlreadyStartedError): "already_done";
* a failed, terminated, timed-out or cancelled one is replaced by a new run with this
  delivery's input: "started". A failed run is never "done": its payment would otherwise
  live only in a closed history until retention deletes it.

Temporal's errors are classified by gRPC status (see TRANSIENT_STATUSES). A transient one
is retried with capped backoff until Temporal answers; a permanent one raises
StartRefusedError, for the caller to dead-letter or park, so one event never stalls its
partition.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.converter import DataConverter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from contracts.workflows import WorkflowTarget, workflow_id
from streams.publishing import retry_forever
from streams.temporal_internals import signal_with_start_started

log = logging.getLogger(__name__)

# What the server or the network says about itself, not about this event: retried. The
# SDK's own client-side retries have already run when one of these reaches us.
# UNAUTHENTICATED is here too: an expired credential is refreshed, it is not the event's
# fault. Statuses not listed in either set are retried as well: a stall is visible (lag,
# readiness, logs), a wrongly dead-lettered payment is not.
TRANSIENT_STATUSES = frozenset({
    RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED, RPCStatusCode.INTERNAL, RPCStatusCode.UNKNOWN, RPCStatusCode.CANCELLED,
    RPCStatusCode.DATA_LOSS, RPCStatusCode.UNAUTHENTICATED,
})
# The server refused this request and will refuse it again, however often it is sent: an
# argument it rejects (an over-long workflow id, a payload over the blob limit), a
# namespace that does not exist, a call it does not implement or this identity may not
# make. ALREADY_EXISTS that is not WorkflowAlreadyStartedError is unexpected; it is refused.
PERMANENT_STATUSES = frozenset({
    RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.OUT_OF_RANGE, RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.PERMISSION_DENIED,
    RPCStatusCode.ALREADY_EXISTS,
})
# Failures to reach Temporal at all: Client.connect raises RuntimeError.
TRANSIENT_ERRORS = (RPCError, RuntimeError, asyncio.TimeoutError, ConnectionError)


class StartRefusedError(Exception):
    """Temporal refused a start for good (a permanent gRPC status): dead-letter, never retry."""

    def __init__(self, workflow_id: str, status: RPCStatusCode, message: str) -> None:
        super().__init__(f"{workflow_id}: {status.name}: {message}")
        self.workflow_id = workflow_id
        self.status = status
        self.message = message

    @property
    def reason(self) -> str:
        """The stable issue code of the dead letter, e.g. ``start.invalid_argument``."""
        return f"start.{self.status.name.lower()}"


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, RPCError) and exc.status in PERMANENT_STATUSES


def start_outcome(handle: WorkflowHandle) -> str:
    """"started" or "signalled", from the signal-with-start response.

    temporalio (1.35) has no public way to tell a signal-with-start that started a run from
    one that signalled a running one; the handle keeps the server's response as
    ``_start_workflow_response`` (read in ``streams/temporal_internals.py``, the seam). A
    temporalio upgrade that drops it fails tests/unit/streams/test_faust_internals.py. In
    production the event is still acked (Temporal took it): the outcome is logged at ERROR
    as "accepted".
    """
    try:
        return "started" if signal_with_start_started(handle) else "signalled"
    except AttributeError:
        log.error("temporalio no longer exposes the signal-with-start response; "
                  "cannot tell started from signalled")
        return "accepted"


class WorkflowStarter:
    """Signal-with-start against one namespace and task queue, with a lazily made client.

    ``data_converter`` is required: the pipeline's one is the payload codec's
    (``encryption.CodecSettings().data_converter()``), so that no event reaches Temporal's
    history in the clear.
    """

    def __init__(self, target: str, namespace: str, task_queue: str,
                 retry_cap_seconds: float = 30.0, *, data_converter: DataConverter) -> None:
        self.target, self.namespace, self.task_queue = target, namespace, task_queue
        self.retry_cap_seconds = retry_cap_seconds
        self.data_converter = data_converter
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None:
                self._client = await Client.connect(self.target, namespace=self.namespace,
                                                    data_converter=self.data_converter)
            return self._client

    async def check_health(self) -> bool:
        """The server answers and our namespace exists (a wrong one refuses every start)."""
        client = await asyncio.wait_for(self.client(), 5)
        healthy = await asyncio.wait_for(client.service_client.check_health(), 5)
        await asyncio.wait_for(client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=self.namespace)), 5)
        return healthy

    async def signal_with_start(self, target: WorkflowTarget, event_id: str, arg: Any,
                                on_retry=None) -> str:
        """Start or signal the event's workflow: "started", "signalled" or "already_done".

        Retries transient errors until Temporal accepts the call, because the caller's
        offset must not move before; raises StartRefusedError for a permanent one.
        """
        wf_id = workflow_id(target, event_id)

        async def attempt() -> str:
            client = await self.client()
            try:
                handle = await client.start_workflow(
                    target.workflow, arg, id=wf_id, task_queue=self.task_queue,
                    start_signal=target.signal, start_signal_args=[arg],
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                )
            except WorkflowAlreadyStartedError:
                # Not running (USE_EXISTING would have signalled it), and the reuse policy
                # refused a new run: the last run completed. Nothing to do.
                return "already_done"
            except RPCError as exc:
                if is_permanent(exc):
                    raise StartRefusedError(wf_id, exc.status, exc.message) from exc
                raise
            return start_outcome(handle)

        return await retry_forever(attempt, retryable=TRANSIENT_ERRORS,
                                   what=f"signal-with-start {wf_id}",
                                   cap_seconds=self.retry_cap_seconds, on_retry=on_retry)
