"""A pause (SIGSTOP, then SIGCONT) of each server and each worker while webhooks flow: a
frozen process holds its sockets open, so peers see silence rather than a refused
connection. Every 2xx'd webhook is stored exactly once and no partition stays stalled.

`make test` pauses the normalizer for 10 s; `make test-faults` pauses each for 30 s.
"""

import pytest
from injectors import pause
from scenario import (
    COMPONENTS,
    fresh_seed,
    record_and_judge,
    run_scenario,
    wait_for_exclusive_stack,
)

SERVERS = ("temporal", "kafka", "postgres")


def test_nothing_lost_when_the_normalizer_pauses(pipeline, fault_table):
    entry = run_scenario(pause("normalizer", 10), seed=fresh_seed(), rate=8, lead=3, tail=3,
                         drain_timeout=180)
    record_and_judge(fault_table, entry)


@pytest.mark.faults
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", COMPONENTS)
def test_nothing_lost_when_a_component_pauses_30s(pipeline, fault_table, name):
    if name in SERVERS:
        wait_for_exclusive_stack()
    entry = run_scenario(pause(name, 30), seed=fresh_seed(), rate=10, lead=6, tail=6,
                         drain_timeout=420)
    record_and_judge(fault_table, entry)
