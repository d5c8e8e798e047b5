"""A PostgreSQL outage while webhooks flow. Within the workflow's persistence budget the
activities' retries and rounds carry every event; beyond it the workflow fails, and the
event must come back (redelivered, or re-driven with `python -m orchestration.review`)
until its row arrives.

`make test` stops PostgreSQL for 15 s; `make test-faults` for the budget plus a minute.
"""

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from injectors import postgres_outage
from scenario import (
    failed_workflows_since,
    fresh_seed,
    record_and_judge,
    run_scenario,
    wait_for_exclusive_stack,
)

from infra.servers import REPO_ROOT
from orchestration.policies import PERSIST_RETRY, PERSIST_ROUND_PAUSE, PERSIST_ROUNDS


def persistence_budget() -> float:
    """How long a workflow keeps trying to persist: every round's retries and pauses."""
    policy, waits, interval = PERSIST_RETRY, 0.0, PERSIST_RETRY.initial_interval
    for _ in range(policy.maximum_attempts - 1):
        waits += interval.total_seconds()
        interval = min(interval * policy.backoff_coefficient,
                       policy.maximum_interval or timedelta.max)
    return PERSIST_ROUNDS * waits + (PERSIST_ROUNDS - 1) * PERSIST_ROUND_PAUSE.total_seconds()


def redrive_command() -> list[str] | None:
    """The review CLI's re-drive of failed workflows, where this branch has one."""
    shown = subprocess.run([sys.executable, "-m", "orchestration.review", "--help"],
                           capture_output=True, text=True, cwd=REPO_ROOT, timeout=60).stdout
    for word in ("redrive", "re-drive", "redrive-failed"):
        if word in shown.split("{", 1)[-1].split("}", 1)[0].split(","):
            return [sys.executable, "-m", "orchestration.review", word, "--all"]
    return None


def test_nothing_lost_through_a_short_postgres_outage(pipeline, fault_table):
    wait_for_exclusive_stack()
    entry = run_scenario(postgres_outage(15), seed=fresh_seed(), rate=8, lead=3, tail=3,
                         drain_timeout=240)
    record_and_judge(fault_table, entry)


@pytest.mark.faults
@pytest.mark.timeout(1800)
def test_a_payment_whose_workflow_failed_still_arrives(pipeline, fault_table):
    wait_for_exclusive_stack()
    budget = persistence_budget()
    seed, started = fresh_seed(), time.time()
    command = redrive_command()

    def after_heal() -> dict:
        failed = failed_workflows_since(started, f"evt_sim{seed}_")
        outcome = "no re-drive command on this branch"
        if command:
            done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT,
                                  timeout=300)
            outcome = f"{' '.join(command[2:])}: exit {done.returncode}"
        return {"budget_s": budget, "failed_workflows": failed, "redrive": outcome}

    entry = run_scenario(postgres_outage(budget + 60), seed=seed, rate=5, lead=3, tail=0,
                         flow_seconds=15, drain_timeout=240, after_heal=after_heal)
    record_and_judge(fault_table, entry)
