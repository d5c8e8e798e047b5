"""`python -m orchestration.worker` as a real process: readiness, SIGKILL mid-flight, SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import PYTHON, REPO_ROOT, count_rows, free_port, wait_http_ok

from contracts.workflows import PAYMENT_EVENT, workflow_id
from orchestration.models import PaymentEventResult
from tests.builders import make_payment_event

pytestmark = pytest.mark.timeout(120)


def spawn_worker(env: dict[str, str], log_path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen([PYTHON, "-m", "orchestration.worker"], cwd=REPO_ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)


async def test_a_worker_killed_mid_workflow_is_replaced_and_the_row_written_once(
        temporal_client, worker_env, make_proxy, inference_url, pg, unique, tmp_path):
    target = urlsplit(inference_url)
    proxy = await make_proxy(target.hostname, target.port)
    proxy.cut()
    port = free_port()
    env = {**worker_env, "ORCHESTRATOR_TASK_QUEUE": f"test-orch-kill-{unique}",
           "ORCHESTRATOR_INFERENCE_URL": proxy.url(), "ORCHESTRATOR_HEALTH_PORT": str(port)}
    log = tmp_path / "worker.log"
    first = spawn_worker(env, log)
    try:
        await asyncio.to_thread(wait_http_ok, f"http://127.0.0.1:{port}/ready", first)
        event = make_payment_event(customer_id=f"cus_{unique}")
        handle = await temporal_client.start_workflow(
            PAYMENT_EVENT.workflow, event, id=workflow_id(PAYMENT_EVENT, event.event_id),
            task_queue=env["ORCHESTRATOR_TASK_QUEUE"], result_type=PaymentEventResult,
            start_signal=PAYMENT_EVENT.signal, start_signal_args=[event],
        )
        # The fraud activity is mid-retry against the cut proxy: kill the worker there.
        await asyncio.wait_for(proxy.attempted.wait(), 20)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        proxy.restore()
        second = spawn_worker(env, log)
        try:
            result = await asyncio.wait_for(handle.result(), 60)
            assert result.outcome == "inserted" and result.fraud_score is not None
            assert await count_rows(pg, event.event_id) == 1

            async with httpx.AsyncClient() as http:
                ready = await http.get(f"http://127.0.0.1:{port}/ready")
                metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            assert ready.status_code == 200 and ready.json()["checks"]["postgres"] == "ok"
            assert 'orchestration_events_persisted_total{outcome="inserted"} 1.0' in metrics
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(second.wait, 30) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert '"message": "worker stopped"' in log.read_text()


def test_bad_configuration_stops_the_worker_with_the_setting_named(worker_env):
    env = {**worker_env, "ORCHESTRATOR_HEALTH_PORT": "not-a-port"}
    done = subprocess.run([PYTHON, "-m", "orchestration.worker"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "ORCHESTRATOR_HEALTH_PORT" in done.stderr
