"""Workflows whose latest run failed, was terminated, timed out or was cancelled.

Such a run is not "done": its input (a payment, or a dead letter) is still in its history's
first event, until the namespace's retention deletes it. This module counts them (the
worker's ``orchestration_failed_workflows`` gauge), lists them and re-drives them for
``python -m orchestration.review failed|redrive``.

Re-driving starts a new run under the same workflow id, on the original task queue, with
exactly the original input: the payloads are passed through as ``RawValue``, never
converted to Python values. A history holds them as the payload codec left them
(encrypted), so they are decoded by the client's codec first and encrypted again, under
the current key, on the way out; the failure of a run is decoded the same way. The reuse
policy ALLOW_DUPLICATE_FAILED_ONLY lets the new run in after an unsuccessful one and
refuses it if a run has completed meanwhile; the payment_events write is idempotent by
event_id, so a re-drive never doubles a row.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHistoryEventFilterType,
)
from temporalio.common import RawValue, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts.workflows import WORKFLOW_TYPES
from encryption import PayloadDecryptionError
from orchestration.metrics import Metrics

log = logging.getLogger(__name__)

UNSUCCESSFUL = {
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
    WorkflowExecutionStatus.CANCELED: "canceled",
}
_VISIBILITY_STATUSES = "'Failed', 'Terminated', 'TimedOut', 'Canceled'"
_DESCRIBE_CONCURRENCY = 16


@dataclass(frozen=True, slots=True)
class FailedWorkflow:
    workflow_id: str
    run_id: str
    workflow_type: str
    status: str  # failed, terminated, timed_out or canceled
    task_queue: str
    close_time: datetime | None


@dataclass(frozen=True, slots=True)
class Redrive:
    workflow_id: str
    outcome: str  # "redriven", "not_failed" (its latest run is fine) or "raced"
    detail: str


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def unsuccessful_runs_query(workflow_type: str, task_queue: str | None = None) -> str:
    """The visibility query for closed-unsuccessfully runs of one type (maybe one queue)."""
    query = (f"WorkflowType = {_quoted(workflow_type)} "
             f"AND ExecutionStatus IN ({_VISIBILITY_STATUSES})")
    return query + (f" AND TaskQueue = {_quoted(task_queue)}" if task_queue else "")


async def find_failed(client: Client, workflow_type: str, task_queue: str | None = None,
                      limit: int = 1000) -> list[FailedWorkflow]:
    """Workflows whose *latest* run closed unsuccessfully: those still waiting for a run.

    Visibility lists every unsuccessful run, also of a workflow re-driven since, so each id
    is described (latest run, strongly consistent) and kept only if that run is still
    unsuccessful. At most ``limit`` workflow ids are looked at.
    """
    ids: dict[str, None] = {}  # in listing order, once each
    async for execution in client.list_workflows(unsuccessful_runs_query(workflow_type,
                                                                          task_queue)):
        ids.setdefault(execution.id)
        if len(ids) >= limit:
            break
    gate = asyncio.Semaphore(_DESCRIBE_CONCURRENCY)

    async def describe(wf_id: str) -> WorkflowExecutionDescription:
        async with gate:
            return await client.get_workflow_handle(wf_id).describe()

    latest = await asyncio.gather(*(describe(wf_id) for wf_id in ids))
    return [FailedWorkflow(d.id, d.run_id, d.workflow_type, UNSUCCESSFUL[d.status], d.task_queue,
                           d.close_time)
            for d in latest if d.status in UNSUCCESSFUL]


async def close_reason(client: Client, failed: FailedWorkflow) -> str:
    """Why the run closed: its failure's message, or the termination reason."""
    handle = client.get_workflow_handle(failed.workflow_id, run_id=failed.run_id)
    async for event in handle.fetch_history_events(
            event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT):
        if event.HasField("workflow_execution_failed_event_attributes"):
            failure = event.workflow_execution_failed_event_attributes.failure
            # Its message is encrypted (encoded attributes); the client's converter opens it.
            try:
                return str(await client.data_converter.decode_failure(failure))
            except PayloadDecryptionError as err:
                return f"{failure.message} ({err})"
        if event.HasField("workflow_execution_terminated_event_attributes"):
            return event.workflow_execution_terminated_event_attributes.reason
    return failed.status


async def redrive(client: Client, workflow_id: str) -> Redrive:
    """Start a new run of an unsuccessfully closed workflow with its original input."""
    described = await client.get_workflow_handle(workflow_id).describe()
    if described.status not in UNSUCCESSFUL:
        status = described.status.name.lower() if described.status else "unknown"
        return Redrive(workflow_id, "not_failed", f"its latest run is {status}")
    handle = client.get_workflow_handle(workflow_id, run_id=described.run_id)
    async for first in handle.fetch_history_events():
        started = first.workflow_execution_started_event_attributes
        break
    else:
        return Redrive(workflow_id, "not_failed", "its history is gone (retention)")
    timeouts = {name: getattr(started, field).ToTimedelta()
                for name, field in (("execution_timeout", "workflow_execution_timeout"),
                                    ("run_timeout", "workflow_run_timeout"))
                if started.HasField(field)}
    payloads = list(started.input.payloads)
    if client.data_converter.payload_codec is not None:
        payloads = await client.data_converter.payload_codec.decode(payloads)
    try:
        new = await client.start_workflow(
            started.workflow_type.name, args=[RawValue(p) for p in payloads],
            id=workflow_id, task_queue=started.task_queue.name,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL, **timeouts)
    except WorkflowAlreadyStartedError:
        return Redrive(workflow_id, "raced", "another run started or completed meanwhile")
    return Redrive(workflow_id, "redriven", f"new run {new.result_run_id} on "
                   f"{started.task_queue.name}, after the {UNSUCCESSFUL[described.status]} run "
                   f"{described.run_id}")


async def refresh_failed_gauge(client: Client, metrics: Metrics, task_queue: str,
                               limit: int = 1000) -> None:
    """Set orchestration_failed_workflows for one task queue, per workflow type and status."""
    for workflow_type in WORKFLOW_TYPES:
        failed = await find_failed(client, workflow_type, task_queue, limit)
        metrics.set_failed_workflows(workflow_type, [f.status for f in failed],
                                     UNSUCCESSFUL.values())


async def watch_failed(client: Client, metrics: Metrics, task_queue: str, interval: float,
                       limit: int) -> None:
    """Refresh the gauge every ``interval`` seconds until cancelled; a failed pass is logged."""
    while True:
        try:
            await refresh_failed_gauge(client, metrics, task_queue, limit)
        except Exception as err:  # noqa: BLE001 - keep the last values; try again next pass
            log.warning("counting failed workflows failed: %r", err)
        await asyncio.sleep(interval)
