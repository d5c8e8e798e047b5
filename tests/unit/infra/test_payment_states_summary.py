"""The per-state summary `make demo` prints at its end, formatted without a server."""

from contracts.lifecycle import PaymentStatus
from infra.reconcile import format_payment_states


def test_every_state_is_listed_in_lifecycle_order_with_counts_shares_and_the_total():
    lines = format_payment_states({"succeeded": 90, "failed": 6, "processing": 4})
    assert lines[0].startswith("payments by state")
    body = [line.split() for line in lines[1:]]
    assert [row[0] for row in body] == [s.value for s in PaymentStatus] + ["total"]
    counts = {row[0]: int(row[1]) for row in body}
    assert counts["succeeded"] == 90 and counts["created"] == 0 and counts["total"] == 100
    assert dict((row[0], row[2]) for row in body[:-1])["failed"] == "6.0%"


def test_a_status_the_lifecycle_does_not_name_is_shown_not_hidden():
    lines = format_payment_states({"succeeded": 1, "mystery": 2})
    assert [line.split()[0] for line in lines[-2:]] == ["mystery", "total"]
    assert lines[-1].split()[1] == "3"


def test_an_empty_table_says_zero_without_dividing_by_it():
    lines = format_payment_states({})
    assert lines[-1].split() == ["total", "0"]
    assert all(line.split()[1:] == ["0", "-"] for line in lines[1:-1])
