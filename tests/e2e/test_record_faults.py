"""Oversized and permanently failing records written straight to every consumed topic
while webhooks flow: each ends in payment_events_quarantine with a reason, no partition
stalls, and the flow's own webhooks are still stored exactly once.

`make test` writes one oversized invalid event to a raw topic (its dead letter must stay
within the record budget); `make test-faults` writes both kinds to all ten topics.
"""

import pytest
from faults import component
from injectors import records
from poison import CONSUMED_TOPICS, poison_records, release_stuck
from scenario import assert_no_loss_no_stall, fresh_seed, run_scenario, write_fault_report

from contracts.topics import STRIPE_CHARGE
from infra.demo import start_services
from infra.servers import KAFKA_PORT


def _restart(name: str) -> None:
    component(name).stop()
    start_services([component(name)])


def _run(target: str, poison, *, rate: float, drain_timeout: float) -> dict:
    entry: dict = {}
    try:
        entry = run_scenario(records(target, poison), seed=fresh_seed(), rate=rate, lead=3,
                             tail=8, drain_timeout=drain_timeout, stop_on_stall=False)
    finally:
        # A stalled consumer would stay stalled for every later run on the shared stack:
        # its group is moved past the poison, and a worker still retrying one in memory
        # (its offset already committed past it, faust-streaming#606) is restarted.
        try:
            released = release_stuck(f"127.0.0.1:{KAFKA_PORT}", poison,
                                     stop=lambda name: component(name).stop(),
                                     start=lambda name: start_services([component(name)]))
        except Exception as exc:  # noqa: BLE001 - reported beside the measurement
            released = [f"release failed: {exc!r}"]
        if entry.get("records_missing", True) or entry.get("lost", 1):
            for name in ("normalizer", "starter"):
                _restart(name)
        if entry:
            entry["released_after_test"] = released
            write_fault_report([entry])
    return entry


def test_an_oversized_raw_event_is_quarantined(pipeline, fault_table):
    poison = poison_records(f"s{fresh_seed()}", topics=(STRIPE_CHARGE,), kinds=("oversized",))
    entry = _run("oversized webhooks.stripe.charge", poison, rate=8, drain_timeout=150)
    fault_table.append(entry)
    assert_no_loss_no_stall(entry)


@pytest.mark.faults
@pytest.mark.timeout(900)
def test_poison_on_every_consumed_topic_is_quarantined(pipeline, fault_table):
    poison = poison_records(f"l{fresh_seed()}", topics=CONSUMED_TOPICS)
    entry = _run("oversized+permanent, all 10 consumed topics", poison, rate=10,
                 drain_timeout=240)
    fault_table.append(entry)
    assert_no_loss_no_stall(entry)
