"""Prometheus metrics: webhooks by provider and outcome, request and Kafka publish latency,
and the Kafka producer's state and rebuilds."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram

# A webhook's latency is dominated by the acks=all round trip: single-digit milliseconds on
# a healthy broker, seconds when it stalls up to the publish timeout.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The gateway's collectors, on a registry of their own so that apps never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._webhook_children: dict[tuple[str, str], Counter] = {}
        self._latency_children: dict[str, Histogram] = {}
        self._publish_children: dict[str, Histogram] = {}
        self.webhooks = Counter(
            "gateway_webhooks",
            "Webhook requests by provider and outcome (accepted, dead_lettered, rejected "
            "reasons such as signature_mismatch, unavailable).",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "gateway_request_duration_seconds",
            "Webhook request latency, from routing to the response.",
            ["provider"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.publish_latency = Histogram(
            "gateway_kafka_publish_duration_seconds",
            "Time from send to the broker's acks=all acknowledgement.",
            ["topic"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.kafka_connected = Gauge(
            "gateway_kafka_connected", "1 while the producer is connected.",
            registry=self.registry,
        )
        self.producer_state = Enum(
            "gateway_kafka_producer_state",
            "The Kafka producer's state: connecting (first start or broker away), ready, "
            "rebuilding (replacing a producer a write left in a bad state), stopped.",
            states=["connecting", "ready", "rebuilding", "stopped"],
            registry=self.registry,
        )
        self.producer_rebuilds = Counter(
            "gateway_kafka_producer_rebuilds",
            "Producers replaced because a write could leave their sequence numbers out of "
            "step with the broker's, by the aiokafka error that condemned them.",
            ["error"],
            registry=self.registry,
        )

    def observe_publish(self, topic: str, seconds: float) -> None:
        child = self._publish_children.get(topic)
        if child is None:
            child = self._publish_children[topic] = self.publish_latency.labels(topic)
        child.observe(seconds)

    def count_webhook(self, provider: str, outcome: str, seconds: float) -> None:
        # labels() hashes and locks on each call; the hot path reuses the children.
        key = (provider, outcome)
        child = self._webhook_children.get(key)
        if child is None:
            child = self._webhook_children[key] = self.webhooks.labels(provider, outcome)
        child.inc()
        latency = self._latency_children.get(provider)
        if latency is None:
            latency = self._latency_children[provider] = self.request_latency.labels(provider)
        latency.observe(seconds)
