"""Every recorded history in tests/histories replays against the current workflow code.

The histories were recorded on a real Temporal dev server (``python -m
tests.histories.record``); replaying needs no server. A change to PaymentEventWorkflow,
DLQReviewWorkflow or PaymentBatchWorkflow that would take a different step than a recorded
run took, under the production runner (the sandbox) or the unsandboxed one, fails here with
a nondeterminism error. Guard such a change with ``workflow.patched``; never re-record to
make this pass (orchestration/README.md, "Recorded histories").
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from contracts.workflows import (
    DLQ_REVIEW,
    PAYMENT_BATCH,
    PAYMENT_EVENT,
    WORKFLOW_TYPES,
    batch_key,
    workflow_id,
)
from orchestration.worker import workflow_runner
from orchestration.workflows import DLQReviewWorkflow, PaymentBatchWorkflow, PaymentEventWorkflow
from tests.histories.changed_workflows import ReadsTheClockWorkflow, SkipsScoringWorkflow

HISTORIES = Path(__file__).resolve().parents[2] / "histories"
FILES = sorted(HISTORIES.glob("*.json"))
# As many as tests/histories/paths.py records; an emptied folder must not pass.
MIN_HISTORIES = 21
# "sandboxed" is the worker's optional sandbox (every module passed through, so the
# modules' own imports are not restricted); "strict sandbox" is the SDK's default, which
# re-imports each workflow module with the clock, randomness and I/O refused. The strict
# replay of every recorded path is what holds the determinism rules while the worker runs
# unsandboxed (orchestration/worker.py).
RUNNERS = {"sandboxed": partial(workflow_runner, True), "unsandboxed": UnsandboxedWorkflowRunner,
           "strict sandbox": SandboxedWorkflowRunner}
_TARGETS = {PAYMENT_EVENT.workflow: PAYMENT_EVENT, DLQ_REVIEW.workflow: DLQ_REVIEW,
            PAYMENT_BATCH.workflow: PAYMENT_BATCH}
WORKFLOWS = [PaymentEventWorkflow, DLQReviewWorkflow, PaymentBatchWorkflow]


def load(path: Path) -> WorkflowHistory:
    """The history, under the workflow id it ran with (its first input's event id, or for a
    batch the key of its events' ids)."""
    history = WorkflowHistory.from_json("unknown", path.read_text())
    started = history.events[0].workflow_execution_started_event_attributes
    target = _TARGETS[started.workflow_type.name]
    first = DataConverter.default.payload_converter.from_payload(started.input.payloads[0])
    key = (batch_key(e["event_id"] for e in first) if isinstance(first, list)
           else first["event_id"])
    return WorkflowHistory(workflow_id(target, key), history.events)


def test_the_recorded_histories_are_all_there():
    assert len(FILES) >= MIN_HISTORIES, f"{HISTORIES} holds {len(FILES)} histories"
    types = {load(path).events[0].workflow_execution_started_event_attributes
             .workflow_type.name for path in FILES}
    assert types == set(WORKFLOW_TYPES)


@pytest.mark.parametrize("runner", sorted(RUNNERS))
@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
async def test_history_replays_deterministically(path, runner):
    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=RUNNERS[runner]())
    # Raises on a nondeterminism error or any other failed workflow task.
    result = await replayer.replay_workflow(load(path))
    assert result.replay_failure is None


@pytest.mark.parametrize("runner", sorted(RUNNERS))
async def test_a_changed_workflow_fails_the_replay(runner):
    """The harness can fail: a workflow that skips a recorded step is caught."""
    replayer = Replayer(workflows=[SkipsScoringWorkflow], workflow_runner=RUNNERS[runner]())
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(load(HISTORIES / "payment_succeeded.json"))


async def test_the_sandboxed_replay_refuses_a_non_deterministic_call():
    """What holds the rules while the worker runs unsandboxed (orchestration/worker.py)."""
    replayer = Replayer(workflows=[ReadsTheClockWorkflow],
                        workflow_runner=RUNNERS["strict sandbox"]())
    with pytest.raises(Exception, match="datetime"):
        await replayer.replay_workflow(load(HISTORIES / "payment_succeeded.json"))


@pytest.mark.parametrize(("value", "runner"), [(None, UnsandboxedWorkflowRunner),
                                               ("true", SandboxedWorkflowRunner)])
def test_the_worker_runs_unsandboxed_unless_told(monkeypatch, value, runner):
    from orchestration.settings import OrchestratorSettings

    if value is not None:
        monkeypatch.setenv("ORCHESTRATOR_WORKFLOW_SANDBOX", value)
    settings = OrchestratorSettings(POSTGRES_DSN="postgresql://u:Zq8vN2kLr5TwX9bYc4@127.0.0.1:1/db")
    assert isinstance(workflow_runner(settings.WORKFLOW_SANDBOX), runner)
