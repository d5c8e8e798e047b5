"""What micro-batching would save: Temporal's cost per payment when one workflow carries
a batch of payments, on no-op activity bodies (a prototype measured here, not a mode the
pipeline offers).

    python -m bench.orchestration_batches

The prototype has the payment workflow's steps, each taking the whole batch: validate,
score, persist (three local activities, so three markers per workflow whatever the batch
size). Per batch size: worker CPU (this process) and Temporal server CPU per payment,
history events per workflow and payments per second. The baseline is the production
payment workflow on the same no-op bodies, in the same run (bench/orchestration_shapes.py).
"""

from __future__ import annotations

import asyncio
import importlib
import time
import uuid
from datetime import timedelta
from functools import partial

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from bench import orchestration as orch
from bench import results
from bench.events import make_events
from contracts import PaymentEvent

STAGE = "orchestration_batches"
entry = partial(results.entry, STAGE)
BATCH_SIZES = (10, 50)
TIMEOUT = timedelta(seconds=10)


@activity.defn(name="bench_validate_batch")
async def validate_batch(events: list[PaymentEvent]) -> list[str]:
    return ["valid"] * len(events)


@activity.defn(name="bench_score_batch")
async def score_batch(events: list[PaymentEvent]) -> list[float]:
    return [0.1] * len(events)


@activity.defn(name="bench_persist_batch")
async def persist_batch(events: list[PaymentEvent]) -> list[str]:
    return ["inserted"] * len(events)


@workflow.defn(name="BenchPaymentBatch")
class PaymentBatchPrototype:
    @workflow.run
    async def run(self, events: list[PaymentEvent]) -> list[str]:
        await workflow.execute_local_activity(validate_batch, events,
                                              start_to_close_timeout=TIMEOUT)
        await workflow.execute_local_activity(score_batch, events,
                                              start_to_close_timeout=TIMEOUT)
        return await workflow.execute_local_activity(persist_batch, events,
                                                     start_to_close_timeout=TIMEOUT)


async def measure_batches(client: Client, size: int, tag: str) -> dict:
    queue = f"bench-batch-{tag}"
    events = make_events(orch.PAYMENTS, tag)
    batches = [events[i:i + size] for i in range(0, len(events), size)]
    gate = asyncio.Semaphore(orch.START_CONCURRENCY)

    async def one(i: int, batch: list[PaymentEvent]) -> None:
        async with gate:
            handle = await client.start_workflow(
                PaymentBatchPrototype.run, batch, id=f"bench-batch-{tag}-{i}", task_queue=queue)
        await handle.result()

    async with Worker(client, task_queue=queue, workflows=[PaymentBatchPrototype],
                      activities=[validate_batch, score_batch, persist_batch],
                      workflow_runner=orch.workflow_runner()):
        await one(-1, events[:size])  # warm-up
        cpu0, own0, t0 = orch.server_cpu_ms(), time.process_time(), time.monotonic()
        await asyncio.gather(*(one(i, b) for i, b in enumerate(batches)))
        elapsed, cpu = time.monotonic() - t0, orch.server_cpu_ms() - cpu0
        own = (time.process_time() - own0) * 1000
        history = await client.get_workflow_handle(f"bench-batch-{tag}-0").fetch_history()
    return {"wf_per_s": len(events) / elapsed, "cpu_ms": cpu / len(events),
            "worker_cpu_ms": own / len(events), "history_events": len(history.events)}


async def measure_all() -> dict:
    shapes = importlib.import_module("bench.orchestration_shapes")
    client = await orch.connect_temporal()
    run = uuid.uuid4().hex[:8]
    name = shapes.PRODUCTION
    measured = {"per event": await shapes.measure_shape(client, name, shapes.SHAPES[name],
                                                        f"{run}e", None)}
    for size in BATCH_SIZES:
        measured[f"batch of {size}"] = await measure_batches(client, size, f"{run}b{size}")
    return measured


def run() -> list[dict]:
    measured = asyncio.run(measure_all())
    base = measured.pop("per event")
    entries = []
    for name, m in measured.items():
        for metric, unit, key in (("worker_cpu_per_payment", "ms", "worker_cpu_ms"),
                                  ("server_cpu_per_payment", "ms", "cpu_ms"),
                                  ("history_events_per_workflow", "", "history_events"),
                                  ("payments_per_second", "payments/s", "wf_per_s")):
            entries.append(entry(f"{metric}[{name}]", m[key], unit, base[key],
                                 "report (baseline: per-event workflow)", None))
    return entries


if __name__ == "__main__":
    from bench.__main__ import to_markdown

    # Through the package: the workflow sandbox cannot import a class defined in __main__.
    batches = importlib.import_module("bench.orchestration_batches")
    print(to_markdown(batches.run()))
