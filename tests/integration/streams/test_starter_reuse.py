"""The starter's signal-with-start against the real Temporal server: reuse and refusals.

A redelivered event whose workflow failed, was terminated, cancelled or timed out starts a
new run (its payment must not stay in a closed history); a completed one is "already
done"; a running one gets the signal. A start Temporal refuses for good is raised as
StartRefusedError at once, never retried.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker import Worker as TemporalWorker

from contracts.events import PaymentEvent
from contracts.workflows import PAYMENT_EVENT, workflow_id
from streams.workflow_starts import StartRefusedError, WorkflowStarter
from tests.builders import make_payment_event

pytestmark = pytest.mark.timeout(180)


@workflow.defn(name=PAYMENT_EVENT.workflow)
class ScriptedPaymentWorkflow:
    """Does what the event's metadata["mode"] says: complete, fail, or wait until stopped."""

    def __init__(self) -> None:
        self.received = 0

    @workflow.run
    async def run(self, event: PaymentEvent) -> str:
        await workflow.wait_condition(lambda: self.received >= 1)
        if event.metadata["mode"] == "fail":
            raise ApplicationError("persistence gave up", non_retryable=True)
        if event.metadata["mode"] == "wait":
            await workflow.wait_condition(lambda: False)
        return event.event_id

    @workflow.signal(name=PAYMENT_EVENT.signal)
    def event_received(self, event: PaymentEvent) -> None:
        self.received += 1


def scripted(unique: str, name: str, mode: str) -> PaymentEvent:
    return make_payment_event(provider_event_id=f"evt_{unique}_{name}", metadata={"mode": mode})


def never_retry() -> None:
    raise AssertionError("the starter retried a start")


@pytest.fixture
async def queue(temporal_client, unique):
    name = f"test-starter-reuse-{unique}"
    async with TemporalWorker(temporal_client, task_queue=name,
                              workflows=[ScriptedPaymentWorkflow],
                              workflow_runner=UnsandboxedWorkflowRunner()):
        yield name


@pytest.fixture
def starter(temporal_target, temporal_client, queue):
    return WorkflowStarter(temporal_target, "default", queue, retry_cap_seconds=1,
                           data_converter=temporal_client.data_converter)


async def closed(client, wf_id: str, status: WorkflowExecutionStatus) -> str:
    """Wait until the latest run of wf_id has `status`; returns its run id."""
    handle = client.get_workflow_handle(wf_id)
    for _ in range(240):
        described = await handle.describe()
        if described.status == status:
            return described.run_id
        await asyncio.sleep(0.25)
    raise AssertionError(f"{wf_id} never reached {status.name}")


async def test_a_failed_run_is_not_done_a_redelivery_starts_a_new_one(
        starter, temporal_client, unique):
    event = scripted(unique, "fail", "fail")
    wf_id = workflow_id(PAYMENT_EVENT, event.event_id)
    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event) == "started"
    with pytest.raises(WorkflowFailureError):
        await temporal_client.get_workflow_handle(wf_id).result()
    failed_run = await closed(temporal_client, wf_id, WorkflowExecutionStatus.FAILED)

    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event,
                                           on_retry=never_retry) == "started"
    assert (await temporal_client.get_workflow_handle(wf_id).describe()).run_id != failed_run


@pytest.mark.parametrize("stop", ["terminate", "cancel"])
async def test_a_terminated_or_cancelled_run_is_replaced_by_a_new_one(
        starter, temporal_client, unique, stop):
    event = scripted(unique, stop, "wait")
    wf_id = workflow_id(PAYMENT_EVENT, event.event_id)
    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event) == "started"
    # While it runs, a redelivery is a signal to the same run.
    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event) == "signalled"
    handle = temporal_client.get_workflow_handle(wf_id)
    await getattr(handle, stop)()
    status = {"terminate": WorkflowExecutionStatus.TERMINATED,
              "cancel": WorkflowExecutionStatus.CANCELED}[stop]
    stopped_run = await closed(temporal_client, wf_id, status)

    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event) == "started"
    new_run = (await handle.describe()).run_id
    assert new_run != stopped_run
    await handle.terminate()  # leave nothing running on the shared server


async def test_a_timed_out_run_is_replaced_by_a_new_one(
        starter, temporal_client, queue, unique):
    event = scripted(unique, "timeout", "wait")
    wf_id = workflow_id(PAYMENT_EVENT, event.event_id)
    await temporal_client.start_workflow(
        PAYMENT_EVENT.workflow, event, id=wf_id, task_queue=queue,
        execution_timeout=timedelta(seconds=1), start_signal=PAYMENT_EVENT.signal,
        start_signal_args=[event])
    timed_out_run = await closed(temporal_client, wf_id, WorkflowExecutionStatus.TIMED_OUT)

    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event) == "started"
    handle = temporal_client.get_workflow_handle(wf_id)
    assert (await handle.describe()).run_id != timed_out_run
    await handle.terminate()


async def test_a_completed_run_is_already_done(starter, temporal_client, unique):
    event = scripted(unique, "done", "complete")
    wf_id = workflow_id(PAYMENT_EVENT, event.event_id)
    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event) == "started"
    await temporal_client.get_workflow_handle(wf_id).result()
    done_run = await closed(temporal_client, wf_id, WorkflowExecutionStatus.COMPLETED)

    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event,
                                           on_retry=never_retry) == "already_done"
    assert (await temporal_client.get_workflow_handle(wf_id).describe()).run_id == done_run


async def test_a_namespace_that_does_not_exist_is_refused_at_once(temporal_target,
                                                                  temporal_client, unique):
    starter = WorkflowStarter(temporal_target, f"no-such-namespace-{unique}", "q",
                              data_converter=temporal_client.data_converter)
    event = scripted(unique, "ns", "complete")
    with pytest.raises(StartRefusedError) as refused:
        await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event,
                                        on_retry=never_retry)
    assert refused.value.status == RPCStatusCode.NOT_FOUND
    assert refused.value.reason == "start.not_found"


async def test_an_over_long_workflow_id_is_refused_at_once(starter, unique):
    event = scripted(unique, "x" * 1100, "complete")
    with pytest.raises(StartRefusedError) as refused:
        await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event,
                                        on_retry=never_retry)
    assert refused.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert refused.value.reason == "start.invalid_argument"
