"""The dead-letter record: what the normalizer writes to ``payments.validation.dlq``; and
the envelope of the gateway's ``webhooks.dlq`` records, which the starter turns into one.

It is also the input of ``DLQReviewWorkflow`` and the source of a
``payment_events_quarantine`` row, so it is defined here, once.

A dead letter never copies its payload: it keeps the payload *redacted* by the data map
(``contracts.redaction``: card data and personal data masked), cut to at most
``PAYLOAD_EXCERPT_BYTES``, the sha256 and length of the original, and the source coordinates
that address the original on its raw topic, which is the only place it stays whole. Its issues
are capped too, so a hostile input cannot make a dead letter too big to write (see
``contracts.limits``).
"""

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from contracts.limits import (
    ISSUE_MESSAGE_MAX_CHARS,
    MAX_HEADERS_BYTES,
    MAX_ISSUES,
    PAYLOAD_EXCERPT_BYTES,
    cut_utf8,
    headers_size,
)
from contracts.redaction import REDACTED, WITHHELD, redact_payload

# Codes and field names are ours, short by design; the caps only stop a bug from growing one.
ISSUE_CODE_MAX_CHARS = 128
ISSUE_FIELD_MAX_CHARS = 256


@dataclass(slots=True)
class ValidationIssue:
    code: str  # stable, e.g. "amount.not_integer"; dashboards and reviewers key on it
    message: str
    field: str | None = None


@dataclass(slots=True)
class DeadLetter:
    """An input the normalizer could not turn into a PaymentEvent, with why and from where.

    ``event_id`` is the unified id when the payload (or, failing that, the record's key)
    named one, else ``dlq:<topic>:<partition>:<offset>``, which is just as stable under
    redelivery. ``payload`` is the payload redacted (``payload_redaction`` "redacted") or
    nothing of it (``"withheld"``: bytes that are not text cannot be redacted), cut to an
    excerpt (``payload_truncated`` says whether it is all of the redacted text);
    ``payload_sha256`` and ``payload_length`` describe the original payload, which stays on
    ``source_topic`` at ``source_partition``/``source_offset``. The digest is None only in
    letters written before excerpts existed, which carried the whole payload, and the
    redaction only in letters written before redaction; readers redact both on the way in.
    """

    event_id: str
    source_topic: str
    source_partition: int
    source_offset: int
    payload: str
    payload_encoding: str  # "utf-8", or "base64" for bytes that are not UTF-8 text
    errors: list[ValidationIssue]
    failed_at: datetime
    stage: str = "validate"
    provider: str | None = None
    provider_event_id: str | None = None
    error_codes: list[str] = field(default_factory=list)
    payload_sha256: str | None = None
    payload_length: int | None = None
    payload_truncated: bool = False
    payload_redaction: str | None = None

    def __post_init__(self) -> None:
        if not self.error_codes:
            self.error_codes = [issue.code for issue in self.errors]


@dataclass(frozen=True, slots=True)
class PayloadExcerpt:
    """The part of a payload a dead letter keeps, and what identifies the whole."""

    text: str
    encoding: str  # "utf-8" or "base64"
    sha256: str
    length: int
    truncated: bool
    redaction: str | None = None  # set by redacted_excerpt: REDACTED or WITHHELD


# The event id of a dead letter that named no event id: its coordinates. No unified event
# has such an id, so a review can only reject such a letter (orchestration.review_rules).
COORDINATES_ID_PREFIX = "dlq:"


def source_event_id(topic: str, partition: int, offset: int) -> str:
    return f"{COORDINATES_ID_PREFIX}{topic}:{partition}:{offset}"


def excerpt_payload(raw: bytes, limit: int = PAYLOAD_EXCERPT_BYTES) -> PayloadExcerpt:
    """At most ``limit`` bytes of text: UTF-8 cut on a character boundary, else base64.

    NUL is valid UTF-8 but PostgreSQL text refuses it, so such bytes go as base64; base64
    keeps the first ``limit * 3 // 4`` bytes so that its text fits the same budget.
    """
    digest, length = hashlib.sha256(raw).hexdigest(), len(raw)
    head = raw[:limit]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Only a character cut in two by the limit is forgiven; any other bad byte is binary.
        cut_mid_char = length > limit and exc.reason == "unexpected end of data"
        text = head[:exc.start].decode("utf-8") if cut_mid_char else None
    if text is not None and "\x00" not in text:
        return PayloadExcerpt(text, "utf-8", digest, length, len(text.encode()) < length)
    kept = raw[:limit * 3 // 4]
    return PayloadExcerpt(base64.b64encode(kept).decode("ascii"), "base64", digest, length,
                          len(kept) < length)


def redacted_excerpt(raw: bytes, limit: int = PAYLOAD_EXCERPT_BYTES) -> PayloadExcerpt:
    """What a dead letter keeps of a payload: its redaction cut to ``limit`` bytes, with the
    sha256 and length of the original. Unreadable bytes are withheld: nothing is kept."""
    digest, length = hashlib.sha256(raw).hexdigest(), len(raw)
    redaction = redact_payload(raw)
    if redaction.text is None:
        return PayloadExcerpt("", "base64", digest, length, length > 0, WITHHELD)
    # Redacted text is UTF-8 without NUL, so the cut keeps it as text.
    cut = excerpt_payload(redaction.text.encode("utf-8"), limit)
    return PayloadExcerpt(cut.text, cut.encoding, digest, length, cut.truncated, REDACTED)


def redact_letter(letter: DeadLetter, limit: int = PAYLOAD_EXCERPT_BYTES) -> DeadLetter:
    """The letter with its payload redacted, whoever wrote it (the topics are open, and
    letters written before redaction carry payload excerpts as they were). Idempotent: a
    redacted letter comes back equal."""
    if letter.payload_redaction == WITHHELD:
        return replace(letter, payload="", payload_encoding="base64")
    try:
        raw = decode_payload(letter.payload, letter.payload_encoding)
    except ValueError:  # base64 that is not: nothing of it can be read
        return replace(letter, payload="", payload_encoding="base64",
                       payload_truncated=True, payload_redaction=WITHHELD)
    excerpt = redacted_excerpt(raw, limit)
    return replace(
        letter, payload=excerpt.text, payload_encoding=excerpt.encoding,
        payload_truncated=letter.payload_truncated or excerpt.truncated,
        payload_redaction=excerpt.redaction,
        payload_sha256=letter.payload_sha256 or excerpt.sha256,
        payload_length=excerpt.length if letter.payload_length is None else letter.payload_length)


def bound_text(text: str, max_chars: int) -> str:
    """Cut to max_chars, marking the cut; lone surrogates (not encodable) are replaced."""
    if len(text) > max_chars:
        text = text[:max_chars - 1] + "…"
    return text.encode("utf-8", "replace").decode("utf-8")


def bound_issues(issues: list[ValidationIssue], max_issues: int = MAX_ISSUES
                 ) -> list[ValidationIssue]:
    """At most max_issues, each cut to its caps; the last one says how many were left out."""
    kept = [ValidationIssue(bound_text(i.code, ISSUE_CODE_MAX_CHARS),
                            bound_text(i.message, ISSUE_MESSAGE_MAX_CHARS),
                            None if i.field is None else bound_text(i.field, ISSUE_FIELD_MAX_CHARS))
            for i in issues[:max_issues]]
    if len(issues) > max_issues:
        left_out = len(issues) - max_issues + 1
        kept[-1] = ValidationIssue("issues.truncated", f"{left_out} more issues were left out")
    return kept


def encode_payload(raw: bytes) -> tuple[str, str]:
    """Keep the original bytes losslessly: text when UTF-8, base64 otherwise."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def decode_payload(payload: str, encoding: str) -> bytes:
    return payload.encode("utf-8") if encoding == "utf-8" else base64.b64decode(payload)


# The webhooks.dlq envelope (written by the gateway, read by the starter, which makes a
# DeadLetter of it): the record's value is the refused body exactly as received, like a
# raw topic's, so the same size budget holds and the full bytes stay addressable by topic,
# partition and offset. The key is the provider's event id, else ``request:<request_id>``.
# Why it was refused travels in these headers (UTF-8), in this order; event_id is absent
# when the body named none that fits a key.
GATEWAY_DLQ_HEADERS = ("provider", "reason", "detail", "event_id", "received_at", "request_id")
REQUEST_KEY_PREFIX = "request:"

Headers = list[tuple[str, bytes]]


def gateway_dead_letter_key(event_id: str | None, request_id: str) -> bytes:
    return (event_id or f"{REQUEST_KEY_PREFIX}{request_id}").encode()


def gateway_dead_letter_headers(*, provider: str, reason: str, detail: str,
                                event_id: str | None, received_at: str,
                                request_id: str) -> Headers:
    """The envelope's headers; ``detail`` is cut to ``ISSUE_MESSAGE_MAX_CHARS`` and then to
    what the others leave of ``MAX_HEADERS_BYTES``, so the record always fits its budget."""
    fixed = {"provider": provider.encode(), "reason": reason.encode(),
             "received_at": received_at.encode(), "request_id": request_id.encode()}
    if event_id is not None:
        fixed["event_id"] = event_id.encode()
    used = headers_size(list(fixed.items())) + len("detail")
    values = {**fixed, "detail": cut_utf8(detail[:ISSUE_MESSAGE_MAX_CHARS],
                                          MAX_HEADERS_BYTES - used)}
    return [(name, values[name]) for name in GATEWAY_DLQ_HEADERS if name in values]


def read_gateway_dead_letter_headers(
        headers: Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None) -> dict[str, str]:
    """The envelope's headers as text: first value wins, empty ones and others are dropped,
    undecodable bytes replaced. A record may lack any of them; the reader decides."""
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    for name, value in items:
        name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        if name in GATEWAY_DLQ_HEADERS and name not in found and value is not None:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            if text:
                found[name] = text
    return found


def gateway_dead_letter_event_id(fields: Mapping[str, str], key: bytes | None) -> str | None:
    """The provider's event id: the event_id header, else the key unless request-keyed."""
    if "event_id" in fields:
        return fields["event_id"]
    text = key.decode("utf-8", "replace") if key else ""
    return text if text and not text.startswith(REQUEST_KEY_PREFIX) else None
