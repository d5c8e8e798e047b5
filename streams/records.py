"""Faust Records on the output topics; they mirror the contracts, a parity test keeps them so."""

from __future__ import annotations

from datetime import datetime
from typing import Dict, Optional  # noqa: UP035 - faust's Record introspection wants typing forms

import faust

from contracts.events import PAYMENT_EVENT_FIELDS, SCHEMA_VERSION, PaymentEvent


class NormalizedEvent(
    faust.Record,
    serializer="json",
    namespace="payments.normalized.v1",  # renaming breaks deserialization: keep it stable
    include_metadata=False,  # the topic carries exactly the PaymentEvent fields
    isodates=True,
):
    """contracts.events.PaymentEvent as a Faust record on payments.normalized."""

    event_id: str
    provider: str
    provider_event_id: str
    event_type: str
    amount_cents: int
    currency: str
    status: str
    provider_created_at: datetime
    processed_at: datetime
    payment_id: Optional[str] = None  # noqa: UP045 - see the typing import
    merchant_id: Optional[str] = None  # noqa: UP045
    customer_id: Optional[str] = None  # noqa: UP045
    payment_method_type: Optional[str] = None  # noqa: UP045
    card_brand: Optional[str] = None  # noqa: UP045
    card_last_four: Optional[str] = None  # noqa: UP045
    failure_code: Optional[str] = None  # noqa: UP045
    failure_message: Optional[str] = None  # noqa: UP045
    metadata: Dict[str, str] = {}  # noqa: UP006, RUF012 - faust copies defaults per instance
    schema_version: int = SCHEMA_VERSION


def to_record(event: PaymentEvent) -> NormalizedEvent:
    # A shallow copy: dataclasses.asdict deep-copies every value, a hot spot per event.
    return NormalizedEvent(**{name: getattr(event, name) for name in PAYMENT_EVENT_FIELDS})
