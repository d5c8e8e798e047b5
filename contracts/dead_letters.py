"""The dead-letter record: what the normalizer writes to ``payments.validation.dlq``.

It is also the input of ``DLQReviewWorkflow`` and the source of a
``payment_events_quarantine`` row, so it is defined here, once.
"""

import base64
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class ValidationIssue:
    code: str  # stable, e.g. "amount.not_integer"; dashboards and reviewers key on it
    message: str
    field: str | None = None


@dataclass(slots=True)
class DeadLetter:
    """An input the normalizer could not turn into a PaymentEvent, with why and from where.

    ``event_id`` is the unified id when the payload was readable enough to have one,
    else ``dlq:<topic>:<partition>:<offset>``, which is just as stable under redelivery.
    """

    event_id: str
    source_topic: str
    source_partition: int
    source_offset: int
    payload: str
    payload_encoding: str  # "utf-8", or "base64" for bytes that are not UTF-8
    errors: list[ValidationIssue]
    failed_at: datetime
    stage: str = "validate"
    provider: str | None = None
    provider_event_id: str | None = None
    error_codes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.error_codes:
            self.error_codes = [issue.code for issue in self.errors]


def source_event_id(topic: str, partition: int, offset: int) -> str:
    return f"dlq:{topic}:{partition}:{offset}"


def encode_payload(raw: bytes) -> tuple[str, str]:
    """Keep the original bytes losslessly: text when UTF-8, base64 otherwise."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def decode_payload(payload: str, encoding: str) -> bytes:
    return payload.encode("utf-8") if encoding == "utf-8" else base64.b64decode(payload)


# webhooks.dlq (written by the gateway, read by the starter): the record's value is the
# refused body exactly as received, like a raw topic's, so the same size budget holds and
# the full bytes stay addressable by topic, partition and offset. Why it was refused
# travels in these headers (UTF-8); `detail` is cut to ISSUE_MESSAGE_MAX_CHARS.
GATEWAY_DLQ_HEADERS = ("provider", "reason", "detail", "event_id", "received_at", "request_id")
