"""A payment whose workflow failed is counted, listed, re-driven and persisted exactly once.

A real `python -m orchestration.worker` whose PostgreSQL is a closed port, with a
persistence budget of one round, fails the workflow (persistence down longer than its own
budget). Its /metrics counts it; `python -m orchestration.review failed` lists it; once a
healthy worker serves the queue, `review redrive` starts a new run with the original input
and the row arrives in payment_events once. A second re-drive is refused: the latest run
completed.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import PYTHON, REPO_ROOT, count_rows, free_port, wait_http_ok
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.worker import Replayer

from contracts.workflows import PAYMENT_EVENT, workflow_id
from orchestration.metrics import Metrics
from orchestration.models import PaymentEventResult
from orchestration.redrive import refresh_failed_gauge
from orchestration.worker import workflow_runner
from orchestration.workflows import PaymentEventWorkflow
from streams.workflow_starts import WorkflowStarter
from tests.builders import make_payment_event

pytestmark = pytest.mark.timeout(240)
FAILED_GAUGE = ('orchestration_failed_workflows{status="failed",'
                f'workflow_type="{PAYMENT_EVENT.workflow}"}}')


async def review(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # In a thread: the in-process worker shares this event loop.
    return await asyncio.to_thread(
        subprocess.run, [PYTHON, "-m", "orchestration.review", *args], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=60)


def spawn_worker(env: dict[str, str], log_path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen([PYTHON, "-m", "orchestration.worker"], cwd=REPO_ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)


async def eventually(probe, what: str, within: float = 90):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if result := await probe():
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_workflow_failed_by_a_long_outage_is_counted_listed_and_redriven_once(
        temporal_client, temporal_target, worker_env, inference_url, start_worker, pg, unique,
        tmp_path):
    queue = f"test-orch-failed-{unique}"
    health = free_port()
    closed_port = free_port()  # nothing listens there: PostgreSQL is "down" for good
    worker_dsn = worker_env["ORCHESTRATOR_POSTGRES_DSN"]
    env = {**worker_env, "ORCHESTRATOR_TASK_QUEUE": queue,
           "ORCHESTRATOR_POSTGRES_DSN": worker_dsn.replace(f":{urlsplit(worker_dsn).port}/",
                                                           f":{closed_port}/"),
           "ORCHESTRATOR_POSTGRES_POOL_MIN": "0", "ORCHESTRATOR_PERSIST_ROUNDS": "1",
           "ORCHESTRATOR_FAILED_WORKFLOWS_POLL_SECONDS": "1",
           "ORCHESTRATOR_INFERENCE_URL": inference_url, "ORCHESTRATOR_HEALTH_PORT": str(health)}
    broken = spawn_worker(env, tmp_path / "worker.log")
    event = make_payment_event()
    wf_id = workflow_id(PAYMENT_EVENT, event.event_id)
    try:
        await asyncio.to_thread(wait_http_ok, f"http://127.0.0.1:{health}/health", broken)
        starter = WorkflowStarter(temporal_target, "default", queue,
                                  data_converter=temporal_client.data_converter)
        assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event) == "started"
        with pytest.raises(WorkflowFailureError) as failure:
            await temporal_client.get_workflow_handle(wf_id).result()
        assert "persist_to_postgres failed" in str(failure.value.cause)

        async def gauge_shows_it():
            async with httpx.AsyncClient() as http:
                text = (await http.get(f"http://127.0.0.1:{health}/metrics")).text
            return f"{FAILED_GAUGE} 1.0" in text

        await eventually(gauge_shows_it, "the worker's gauge to count the failed workflow")
    finally:
        broken.send_signal(signal.SIGTERM)
        await asyncio.to_thread(broken.wait, 30)
    assert await count_rows(pg, event.event_id) == 0
    # The budget was read into the history: the failed run replays deterministically.
    failed_run = (await temporal_client.get_workflow_handle(wf_id).describe()).run_id
    history = await temporal_client.get_workflow_handle(wf_id, run_id=failed_run).fetch_history()
    await Replayer(workflows=[PaymentEventWorkflow], workflow_runner=workflow_runner(),
                   data_converter=temporal_client.data_converter).replay_workflow(history)

    review_env = {**worker_env, "ORCHESTRATOR_TEMPORAL_TARGET": temporal_target}
    listed = await review(review_env, "failed", "--task-queue", queue)
    assert listed.returncode == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if line.startswith(wf_id)]
    assert " failed " in line and "persist_to_postgres failed" in line

    await start_worker(TASK_QUEUE=queue)  # healthy: the real PostgreSQL
    redriven = await review(review_env, "redrive", wf_id)
    assert redriven.returncode == 0, redriven.stderr
    assert f"{wf_id}: redriven: new run" in redriven.stdout

    handle = temporal_client.get_workflow_handle(wf_id, result_type=PaymentEventResult)
    assert (await handle.result()).outcome == "inserted"
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    assert await count_rows(pg, event.event_id) == 1

    again = await review(review_env, "redrive", wf_id)
    assert again.returncode == 1 and "not failed: its latest run is completed" in again.stderr
    # A redelivery from the starter is now "already done", and the gauge is back to 0.
    assert await starter.signal_with_start(PAYMENT_EVENT, event.event_id, event) == "already_done"
    metrics = Metrics()
    await refresh_failed_gauge(temporal_client, metrics, queue)
    assert metrics.registry.get_sample_value("orchestration_failed_workflows", {
        "workflow_type": PAYMENT_EVENT.workflow, "status": "failed"}) == 0
    assert await count_rows(pg, event.event_id) == 1
