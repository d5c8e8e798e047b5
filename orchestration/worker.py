"""`python -m orchestration.worker`: the Temporal worker for payment and review workflows.

SIGTERM or SIGINT drops readiness, then shuts the worker down gracefully: polling stops,
in-flight activities get GRACEFUL_SHUTDOWN_SECONDS to finish, and only then are the
PostgreSQL pool and HTTP client closed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta

import aiohttp
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Interceptor, UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from encryption import CodecSettings, invalid_settings
from orchestration.activities import BudgetActivities, PaymentActivities, QuarantineActivities
from orchestration.batch_activities import PaymentBatchActivities
from orchestration.health import HealthServer
from orchestration.metrics import Metrics
from orchestration.redrive import watch_failed
from orchestration.settings import OrchestratorSettings
from orchestration.store import PaymentStore, create_pool
from orchestration.workflows import DLQReviewWorkflow, PaymentBatchWorkflow, PaymentEventWorkflow
from telemetry import configure_logging, exit_after_flush

log = logging.getLogger("orchestration.worker")


def workflow_runner(sandboxed: bool = False) -> WorkflowRunner:
    """The runner ORCHESTRATOR_WORKFLOW_SANDBOX chooses; unsandboxed unless it is true.

    Measured on our payment workflow (bench/orchestration_shapes.py), the sandbox costs
    the worker 25-40 % more CPU per payment, even with every module passed through (the
    default sandbox, re-importing modules per run, cost more still). Without it, the
    determinism rules are held by tests instead: every recorded history in
    tests/histories/ is replayed on each `make test` under this runner, the sandbox below
    and the SDK's strict default sandbox, which refuses any non-deterministic call (the
    clock, randomness, I/O) on the paths they cover. The sandbox below does not: with
    every module passed through, a workflow module's own imports are the real ones.
    """
    if not sandboxed:
        return UnsandboxedWorkflowRunner()
    # Our workflow modules keep no module-level state to isolate, so nothing is re-imported
    # (the default sandbox re-imports every module per run and cost more still).
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules())


def build_worker(client: Client, settings: OrchestratorSettings, store: PaymentStore,
                 http: aiohttp.ClientSession, metrics: Metrics,
                 interceptors: Sequence[Interceptor] = ()) -> Worker:
    """One worker for every workflow and activity, sharing the pool and HTTP client."""
    payments = PaymentActivities(store, http, metrics)
    batches = PaymentBatchActivities(payments)
    quarantine = QuarantineActivities(store, metrics, settings.REVIEW_TIMEOUT_SECONDS)
    budget = BudgetActivities(settings.persist_budget())
    return Worker(
        client,
        task_queue=settings.TASK_QUEUE,
        workflows=[PaymentEventWorkflow, DLQReviewWorkflow, PaymentBatchWorkflow],
        workflow_runner=workflow_runner(settings.WORKFLOW_SANDBOX),
        activities=[
            payments.validate_business_rules, payments.get_fraud_score,
            payments.get_retry_strategy, payments.get_churn_prediction,
            payments.persist_to_postgres, quarantine.persist_quarantine,
            quarantine.record_review, budget.persistence_budget, *batches.all(),
        ],
        max_concurrent_workflow_tasks=settings.MAX_CONCURRENT_WORKFLOW_TASKS,
        max_concurrent_activities=settings.MAX_CONCURRENT_ACTIVITIES,
        max_concurrent_local_activities=settings.MAX_CONCURRENT_LOCAL_ACTIVITIES,
        graceful_shutdown_timeout=timedelta(seconds=settings.GRACEFUL_SHUTDOWN_SECONDS),
        interceptors=interceptors,
    )


def create_http_client(settings: OrchestratorSettings) -> aiohttp.ClientSession:
    """The inference client; call inside the event loop, and close() it at shutdown.

    aiohttp rather than httpx: measured against the inference app, httpx spent ~2.2 ms
    of CPU per request and aiohttp ~0.16 ms, and each payment makes three requests.
    """
    return aiohttp.ClientSession(
        base_url=settings.INFERENCE_URL,
        connector=aiohttp.TCPConnector(limit=settings.MAX_CONCURRENT_LOCAL_ACTIVITIES),
        timeout=aiohttp.ClientTimeout(total=settings.INFERENCE_TIMEOUT_SECONDS),
        raise_for_status=False,
    )


async def connect_temporal(settings: OrchestratorSettings, codec: CodecSettings) -> Client:
    """The worker's client: every payload and failure it writes is encrypted (encryption/)."""
    options = {}
    if settings.SDK_METRICS_PORT:
        # The SDK serves its own worker metrics (poll and task latencies) on this port.
        address = f"{settings.HEALTH_HOST}:{settings.SDK_METRICS_PORT}"
        options["runtime"] = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(address)))
    return await Client.connect(settings.TEMPORAL_TARGET, namespace=settings.TEMPORAL_NAMESPACE,
                                data_converter=codec.data_converter(), **options)


async def serve(settings: OrchestratorSettings, codec: CodecSettings) -> None:
    """Run until SIGTERM/SIGINT, then shut down gracefully."""
    client = await connect_temporal(settings, codec)
    pool = await create_pool(settings.POSTGRES_DSN, settings.POSTGRES_POOL_MIN,
                             settings.POSTGRES_POOL_MAX)
    http = create_http_client(settings)
    store = PaymentStore(pool)
    metrics = Metrics()
    worker = build_worker(client, settings, store, http, metrics)
    health = HealthServer(client, store, metrics.registry, settings.HEALTH_HOST,
                          settings.HEALTH_PORT)
    watcher = None
    if settings.FAILED_WORKFLOWS_POLL_SECONDS:
        watcher = asyncio.create_task(watch_failed(
            client, metrics, settings.TASK_QUEUE, settings.FAILED_WORKFLOWS_POLL_SECONDS,
            settings.FAILED_WORKFLOWS_SCAN_LIMIT))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await health.start()
        running = asyncio.create_task(worker.run())
        log.info("worker polling task queue %s", settings.TASK_QUEUE)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        health.accepting = False
        if not running.done():
            log.info("shutting down; waiting up to %ss for in-flight work",
                     settings.GRACEFUL_SHUTDOWN_SECONDS)
            await worker.shutdown()
        stopping.cancel()
        await running  # re-raises a fatal worker error
    finally:
        if watcher is not None:
            watcher.cancel()
        await health.stop()
        await http.close()
        await pool.close()
    log.info("worker stopped")


def main() -> int:
    try:
        settings = OrchestratorSettings()
    except ValidationError as err:
        names = ", ".join("ORCHESTRATOR_" + str(e["loc"][0]) for e in err.errors())
        print(f"orchestration.worker: invalid configuration: {names}\n{err}", file=sys.stderr)
        return 2
    try:
        codec = CodecSettings()
    except ValidationError as err:
        print(f"orchestration.worker: invalid configuration: {invalid_settings(err)}\n{err}",
              file=sys.stderr)
        return 2
    configure_logging("orchestration-worker", settings.LOG_LEVEL)
    asyncio.run(serve(settings, codec))
    return 0


if __name__ == "__main__":
    exit_after_flush(main())
