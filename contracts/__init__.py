"""What crosses a service boundary: the unified event, providers, topics and currencies.

Imports no framework, so every service can depend on it and none on another service.
"""

from contracts.currencies import (
    MAX_AMOUNT_MINOR,
    MINOR_UNIT_EXPONENT,
    SUPPORTED_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
    is_zero_decimal,
)
from contracts.dead_letters import (
    DeadLetter,
    ValidationIssue,
    decode_payload,
    encode_payload,
    source_event_id,
)
from contracts.events import (
    FAILURE_EVENT_TYPES,
    PAYMENT_EVENT_FIELDS,
    SCHEMA_VERSION,
    STRIPE_EVENT_TYPES,
    SUCCESS_EVENT_TYPES,
    EventType,
    PaymentEvent,
    make_event_id,
)
from contracts.providers import PROVIDER_NAMES, Provider

__all__ = [
    "DeadLetter",
    "ValidationIssue",
    "decode_payload",
    "encode_payload",
    "source_event_id",
    "FAILURE_EVENT_TYPES",
    "MAX_AMOUNT_MINOR",
    "MINOR_UNIT_EXPONENT",
    "PAYMENT_EVENT_FIELDS",
    "PROVIDER_NAMES",
    "SCHEMA_VERSION",
    "STRIPE_EVENT_TYPES",
    "SUCCESS_EVENT_TYPES",
    "SUPPORTED_CURRENCIES",
    "ZERO_DECIMAL_CURRENCIES",
    "EventType",
    "PaymentEvent",
    "Provider",
    "is_zero_decimal",
    "make_event_id",
]
