"""Network faults on each link between a service and a server, through Toxiproxy, while
webhooks flow: a partition (nothing gets through either way, connections stay open) and
500 ms of added latency on every response. Every 2xx'd webhook is stored exactly once and
no partition stays stalled once the link heals.

`make test` partitions two links for 10 s and slows one; `make test-faults` partitions
every link for 30 s and slows every link for 20 s.
"""

import pytest
from injectors import latency, partition
from scenario import (
    fresh_seed,
    record_and_judge,
    run_scenario,
)

from infra.toxiproxy import LINKS

LINK_NAMES = tuple(lk.name for lk in LINKS)


@pytest.mark.parametrize("link_name", ["orchestration-worker->postgres",
                                       "normalizer->kafka"])
def test_nothing_lost_through_a_short_partition(proxied_pipeline, fault_table, link_name):
    entry = run_scenario(partition(link_name, 10, proxied_pipeline), seed=fresh_seed(),
                         rate=8, lead=3, tail=3, drain_timeout=240)
    record_and_judge(fault_table, entry)


def test_nothing_lost_through_added_latency(proxied_pipeline, fault_table):
    entry = run_scenario(latency("starter->temporal", 10, proxied_pipeline), seed=fresh_seed(),
                         rate=8, lead=3, tail=3, drain_timeout=240)
    record_and_judge(fault_table, entry)


@pytest.mark.faults
@pytest.mark.timeout(900)
@pytest.mark.parametrize("link_name", LINK_NAMES)
def test_nothing_lost_through_a_30s_partition(proxied_pipeline, fault_table, link_name):
    entry = run_scenario(partition(link_name, 30, proxied_pipeline), seed=fresh_seed(),
                         rate=10, lead=6, tail=6, drain_timeout=420)
    record_and_judge(fault_table, entry)


@pytest.mark.faults
@pytest.mark.timeout(900)
@pytest.mark.parametrize("link_name", LINK_NAMES)
def test_nothing_lost_through_500ms_latency(proxied_pipeline, fault_table, link_name):
    entry = run_scenario(latency(link_name, 20, proxied_pipeline), seed=fresh_seed(),
                         rate=10, lead=6, tail=6, drain_timeout=420)
    record_and_judge(fault_table, entry)
