"""The benchmark's load is the tests' valid payment, so its figures stay comparable.

bench may not import tests, so it builds its events itself; this pins them equal to
``tests.builders`` (but for the random payment id), as they were when bench used those.
"""

import dataclasses

from bench.events import make_events
from tests.builders import make_failed_event, make_payment_event


def test_bench_events_are_the_builders_events():
    events = make_events(10, "t")
    for i, event in enumerate(events):
        maker = make_failed_event if i % 5 == 4 else make_payment_event
        expected = maker(provider_event_id=f"evt_bench_t_{i}", customer_id=f"cus_bench_t_{i}",
                         payment_id=event.payment_id)
        assert dataclasses.asdict(event) == dataclasses.asdict(expected)
    assert [e.status for e in events].count("failed") == 2
    assert len({e.payment_id for e in events}) == len(events)


def test_customers_recur_every_forty_payments():
    events = make_events(41, "t")
    assert events[40].customer_id == events[0].customer_id == "cus_bench_t_0"
