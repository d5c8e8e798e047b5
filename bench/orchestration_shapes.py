"""Where a payment's orchestration CPU goes: the SDK's and the server's share per shape.

    python -m bench.orchestration_shapes [--profile DIR]

Every shape runs the payment workflow on no-op activity bodies (bench/orchestration.py's
ceiling), so what is measured is the Temporal SDK, the workflow runner, the payload codec
and the dev server, not our activities. Per shape: worker CPU and server CPU per payment,
workflow activations per payment (counted where the worker hands each activation to the
workflow), history events per payment and completions per second. ``--profile DIR`` also
samples this process (the worker) with py-spy during each timed window and writes each
shape's collapsed stacks and a summary of the top frames to DIR.

The first shape is the production one and is every other shape's same-run baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib
import os
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from temporalio import workflow
from temporalio.worker import Worker
from temporalio.worker import _workflow as sdk_workflow

from bench import orchestration as orch
from bench import results
from contracts import PaymentEvent
from contracts.workflows import PAYMENT_EVENT, workflow_id
from orchestration.enrichment import plan_models
from orchestration.models import Enrichment, PaymentEventResult, ValidationResult
from orchestration.worker import workflow_runner
from orchestration.workflows import DLQReviewWorkflow, PaymentEventWorkflow

STAGE = "orchestration_shapes"
entry = partial(results.entry, STAGE)


@workflow.defn(name=PAYMENT_EVENT.workflow)
class SequentialScores(PaymentEventWorkflow):
    """The workflow as it was before issue 19: one score after the other."""

    @workflow.init
    def __init__(self, event: PaymentEvent) -> None:
        super().__init__(event)

    @workflow.run
    async def run(self, event: PaymentEvent) -> PaymentEventResult:
        return await super().run(event)

    async def _enrich(self, event: PaymentEvent, validation: ValidationResult) -> Enrichment:
        if validation.errors:  # scores skipped, as in the production workflow
            return await super()._enrich(event, validation)
        self._stage = "enriching"
        enrichment = Enrichment(missing=self._missing)
        for model in plan_models(event):
            result = await self._score(model, event)
            if result is not None:
                setattr(enrichment, model, result)
        return enrichment


async def start_without_signal(client, queue: str, events: list[PaymentEvent],
                               eager: bool = False) -> None:
    """Plain starts (no start signal, so no redelivery count), optionally eager: the server
    hands the first workflow task straight back to this process's worker."""
    gate = asyncio.Semaphore(orch.START_CONCURRENCY)

    async def start(event: PaymentEvent) -> None:
        async with gate:
            await client.start_workflow(
                PAYMENT_EVENT.workflow, event, id=workflow_id(PAYMENT_EVENT, event.event_id),
                task_queue=queue, request_eager_start=eager)

    await asyncio.gather(*(start(e) for e in events))


SANDBOXED = partial(workflow_runner, True)
# shape name -> (payment workflow, the worker's workflow runner, how workflows are started);
# the first is the baseline
SHAPES = {
    "sequential scores, sandboxed (before)": (SequentialScores, SANDBOXED, orch.start_all),
    "concurrent scores, sandboxed": (PaymentEventWorkflow, SANDBOXED, orch.start_all),
    "concurrent scores, unsandboxed (production)":
        (PaymentEventWorkflow, workflow_runner, orch.start_all),
    "unsandboxed, plain start without a signal":
        (PaymentEventWorkflow, workflow_runner, start_without_signal),
    "unsandboxed, eager start without a signal":
        (PaymentEventWorkflow, workflow_runner, partial(start_without_signal, eager=True)),
}
PRODUCTION = "concurrent scores, unsandboxed (production)"
ACTIVATIONS: collections.Counter[str] = collections.Counter()


def count_activations() -> None:
    """Count activations per task queue where the worker hands each one to a workflow."""
    original = sdk_workflow._WorkflowWorker._handle_activation
    if getattr(original, "counted", False):
        return

    async def counted(self, act):
        ACTIVATIONS[self._task_queue] += 1
        return await original(self, act)

    counted.counted = True
    sdk_workflow._WorkflowWorker._handle_activation = counted


@contextmanager
def sampled(profile_dir: Path | None, name: str):
    """py-spy on this process for the duration of the block (no-op without a directory)."""
    if profile_dir is None:
        yield
        return
    profile_dir.mkdir(parents=True, exist_ok=True)
    out = profile_dir / f"{name}.txt"
    spy = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(os.getpid()),
         "--rate", "250", "--nonblocking", "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
        (profile_dir / f"{name}.top.txt").write_text(summarise(out))


def summarise(collapsed: Path, top: int = 25) -> str:
    """Self and inclusive sample shares of the busiest frames in py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        frames = stack.split(";")
        total += samples
        own[_short(frames[-1])] += samples
        for frame in {_short(f) for f in frames}:
            inclusive[frame] += samples
    lines = [f"{total} samples", "", "self %  frame"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in own.most_common(top)]
    lines += ["", "incl %  frame"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    # "function (path/to/module.py:123)" -> "function (module.py)": lines split one function.
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.rsplit(':', 1)[0]).name})" if where else name


async def measure_shape(client, name: str, shape: tuple, tag: str,
                        profile_dir: Path | None) -> dict:
    queue = f"bench-shape-{tag}"
    noop = orch.NoopActivities()
    payment_workflow, runner, start = shape
    worker = Worker(
        client, task_queue=queue, workflows=[payment_workflow, DLQReviewWorkflow],
        workflow_runner=runner(),
        activities=[noop.validate_business_rules, noop.get_fraud_score, noop.get_retry_strategy,
                    noop.get_churn_prediction, noop.persist_to_postgres],
        max_concurrent_workflow_tasks=orch.CONCURRENCY[-1][0],
        max_concurrent_local_activities=orch.CONCURRENCY[-1][1],
        interceptors=[orch.CountCompletions()])
    slug = "-".join(name.replace(",", "").split()[:4])
    with sampled(profile_dir, slug):
        before = ACTIVATIONS[queue]
        result = await orch.measure(client, worker, queue, tag, start)
    # The warm-up's 20 workflows are in the count too; they have the same shape.
    result["activations"] = (ACTIVATIONS[queue] - before) / (orch.PAYMENTS + 20)
    return result


async def measure_all(profile_dir: Path | None) -> dict[str, dict]:
    count_activations()
    client = await orch.connect_temporal()
    run = uuid.uuid4().hex[:8]
    return {name: await measure_shape(client, name, shape, f"{run}{i}", profile_dir)
            for i, (name, shape) in enumerate(SHAPES.items())}


def run(profile_dir: Path | None = None) -> list[dict]:
    measured = asyncio.run(measure_all(profile_dir))
    base = next(iter(measured.values()))
    entries = []
    for name, m in measured.items():
        for metric, unit, key in (("worker_cpu_per_payment", "ms", "worker_cpu_ms"),
                                  ("server_cpu_per_payment", "ms", "cpu_ms"),
                                  ("activations_per_payment", "", "activations"),
                                  ("history_events_per_payment", "", "history_events"),
                                  ("history_bytes_per_payment", "B", "history_bytes"),
                                  ("payments_per_second", "wf/s", "wf_per_s")):
            entries.append(entry(f"{metric}[{name}]", m[key], unit, base[key], "report", None))
    return entries


if __name__ == "__main__":
    from bench.__main__ import to_markdown

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, help="write py-spy profiles here")
    # Through the package: the workflow sandbox cannot import a class defined in __main__.
    shapes = importlib.import_module("bench.orchestration_shapes")
    print(to_markdown(shapes.run(parser.parse_args().profile)))
