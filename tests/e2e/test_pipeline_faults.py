"""kill -9 one component at a time while webhooks flow: every 2xx'd webhook is still stored
exactly once (payment_events if valid, quarantine if not) once the component is back, and
no consumer partition is left stalled.

The full run (`make test-faults`) kills each service and each server; the short unmarked
one kills the orchestration worker, then the normalizer, during one small flow.
"""

import pytest
from injectors import kill
from scenario import (
    assert_no_loss_no_stall,
    fresh_seed,
    record_and_judge,
    run_scenario,
    wait_for_exclusive_stack,
    write_fault_report,
)

SERVICES = ("gateway", "normalizer", "starter", "orchestration-worker", "inference")
SERVERS = ("temporal", "kafka", "postgres")
FAULTS = (*SERVICES, *SERVERS)


def test_nothing_lost_when_workers_are_killed(pipeline):
    """The short version for `make test`: the orchestration worker, then the normalizer."""
    fault = kill(("orchestration-worker", "normalizer"), downtime=1, gap=3)
    entry = run_scenario(fault, seed=fresh_seed(), rate=8, lead=3, tail=0, flow_seconds=14,
                         drain_timeout=180)
    write_fault_report([entry])
    assert_no_loss_no_stall(entry)


@pytest.mark.faults
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", FAULTS)
def test_nothing_lost_when_a_component_is_killed(pipeline, fault_table, name):
    if name in SERVERS:
        wait_for_exclusive_stack()
    entry = run_scenario(kill((name,), downtime=2), seed=fresh_seed(), rate=15, lead=6,
                         tail=0, flow_seconds=24, drain_timeout=600)
    record_and_judge(fault_table, entry)
