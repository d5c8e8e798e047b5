"""The review CLI's failed/redrive commands, the persistence budget setting and the gauge."""

from __future__ import annotations

import pytest

from contracts.workflows import PAYMENT_EVENT
from orchestration import policies, review
from orchestration.metrics import Metrics
from orchestration.redrive import UNSUCCESSFUL, unsuccessful_runs_query
from orchestration.settings import OrchestratorSettings

WORKER_DSN = "postgresql://payments_worker:unit-test-password-0123@db/payments"


def test_redrive_takes_ids_or_all_but_not_both_or_neither(capsys):
    assert review.parse_args(["redrive", "payment-event:a", "payment-event:b"]).workflow_ids == [
        "payment-event:a", "payment-event:b"]
    assert review.parse_args(["redrive", "--all", "--task-queue", "q"]).all
    for argv in (["redrive"], ["redrive", "x", "--all"]):
        with pytest.raises(SystemExit):
            review.parse_args(argv)
    assert review.parse_args(["failed"]).type is None  # every workflow type


def test_the_default_budget_is_the_workflow_default(monkeypatch):
    for name in ("ORCHESTRATOR_PERSIST_ROUNDS", "ORCHESTRATOR_PERSIST_ROUND_PAUSE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORCHESTRATOR_POSTGRES_DSN", WORKER_DSN)
    budget = OrchestratorSettings().persist_budget()
    assert budget.rounds == policies.PERSIST_ROUNDS
    assert budget.round_pause_seconds == policies.PERSIST_ROUND_PAUSE.total_seconds()


def test_a_short_budget_can_be_configured(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_POSTGRES_DSN", WORKER_DSN)
    monkeypatch.setenv("ORCHESTRATOR_PERSIST_ROUNDS", "1")
    monkeypatch.setenv("ORCHESTRATOR_PERSIST_ROUND_PAUSE_SECONDS", "2.5")
    assert OrchestratorSettings().persist_budget().rounds == 1
    monkeypatch.setenv("ORCHESTRATOR_PERSIST_ROUNDS", "0")
    with pytest.raises(ValueError, match="PERSIST_ROUNDS"):
        OrchestratorSettings()


def test_the_query_names_every_unsuccessful_status_and_quotes_the_queue():
    query = unsuccessful_runs_query(PAYMENT_EVENT.workflow, "it's")
    assert query == (f"WorkflowType = '{PAYMENT_EVENT.workflow}' AND ExecutionStatus IN "
                     "('Failed', 'Terminated', 'TimedOut', 'Canceled') AND TaskQueue = 'it\\'s'")
    assert len(UNSUCCESSFUL) == 4


def test_the_gauge_drops_a_status_to_zero_once_it_is_gone():
    metrics = Metrics()
    metrics.set_failed_workflows(PAYMENT_EVENT.workflow, ["failed", "failed", "terminated"],
                                 UNSUCCESSFUL.values())
    value = metrics.registry.get_sample_value
    labels = {"workflow_type": PAYMENT_EVENT.workflow}
    assert value("orchestration_failed_workflows", {**labels, "status": "failed"}) == 2
    metrics.set_failed_workflows(PAYMENT_EVENT.workflow, [], UNSUCCESSFUL.values())
    assert value("orchestration_failed_workflows", {**labels, "status": "failed"}) == 0
    assert value("orchestration_failed_workflows", {**labels, "status": "timed_out"}) == 0
