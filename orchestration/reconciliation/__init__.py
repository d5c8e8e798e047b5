"""Reconciliation with a provider: list its events over a window, find those the pipeline
never received, and feed them through the normal raw-topic path (``python -m
orchestration.reconcile``)."""

from orchestration.reconciliation.compare import (
    RAW_TOPIC_ROUTES,
    Comparison,
    RawRecord,
    classify,
    compare,
    raw_record,
)
from orchestration.reconciliation.events import ProviderEvent, ProviderEventSource, Window
from orchestration.reconciliation.runner import Held, KafkaFeeder, Report, reconcile

__all__ = ["RAW_TOPIC_ROUTES", "Comparison", "Held", "KafkaFeeder", "ProviderEvent",
           "ProviderEventSource", "RawRecord", "Report", "Window", "classify", "compare",
           "raw_record", "reconcile"]
