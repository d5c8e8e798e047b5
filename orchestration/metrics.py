"""Prometheus metrics of the orchestration worker, on a registry of its own."""

from __future__ import annotations

from collections import Counter as _Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.events_persisted = Counter(
            "orchestration_events_persisted", "payment_events writes by outcome.",
            ["outcome"], registry=self.registry,
        )
        self.event_conflicts = Counter(
            "orchestration_event_conflicts",
            "Deliveries whose event_id was stored with different unified fields.",
            registry=self.registry,
        )
        self.inference_requests = Counter(
            "orchestration_inference_requests", "Calls to the inference service.",
            ["model", "outcome"], registry=self.registry,
        )
        self.inference_latency = Histogram(
            "orchestration_inference_duration_seconds", "Inference call latency.",
            ["model"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.quarantined = Counter(
            "orchestration_quarantine_writes", "Dead letters written to quarantine.",
            registry=self.registry,
        )
        self.reviews = Counter(
            "orchestration_reviews", "Quarantine reviews closed, by status.",
            ["review_status"], registry=self.registry,
        )
        self.failed_workflows = Gauge(
            "orchestration_failed_workflows",
            "Workflows on this worker's task queue whose latest run failed, was terminated, "
            "timed out or was cancelled: inputs waiting for a run "
            "(python -m orchestration.review redrive).",
            ["workflow_type", "status"], registry=self.registry,
        )

    def set_failed_workflows(self, workflow_type: str, statuses: Iterable[str],
                             every_status: Iterable[str]) -> None:
        """One pass's count per status; a status seen no more drops to 0."""
        tally = _Tally(statuses)
        for status in every_status:
            self.failed_workflows.labels(workflow_type, status).set(tally[status])
