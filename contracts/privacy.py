"""What the unified event may keep of a provider's data: the data map applied to one event.

``PaymentEvent`` has no field for card data beyond brand and last four, so what is left to
guard is the text a provider or merchant writes: metadata passes the allow-list
(``contracts.data_map.METADATA_ALLOWED_KEYS``) with its size caps, and free text (metadata
values, the failure message, brand and method names) has card numbers, e-mail addresses
and masked ``key: value`` pairs masked as a redacted copy would. Pure and idempotent, so the
normalizer applies it to what it publishes and the store to what it writes, and a
redelivered event compares equal to the row it already made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from contracts.data_map import METADATA_ALLOWED_KEYS, METADATA_MAX_BYTES, METADATA_MAX_VALUE_CHARS
from contracts.events import PaymentEvent
from contracts.redaction import redact_text

_ALLOWED = frozenset(METADATA_ALLOWED_KEYS)
_FREE_TEXT_FIELDS = ("failure_message", "card_brand", "payment_method_type")


def filter_metadata(metadata: Mapping[str, object]) -> dict[str, str]:
    """The allow-listed entries, in their order, each value redacted and cut to
    ``METADATA_MAX_VALUE_CHARS``, while the whole stays within ``METADATA_MAX_BYTES`` as
    compact JSON (an entry that would cross it is left out)."""
    kept: dict[str, str] = {}
    size = len(b"{}")
    for key, value in metadata.items():
        if key not in _ALLOWED or not isinstance(value, str):
            continue
        text = redact_text(value)[0][:METADATA_MAX_VALUE_CHARS]
        entry = len(key) + _json_text_size(text) + 3 + (1 if kept else 0)  # "":, and a comma
        if size + entry <= METADATA_MAX_BYTES:
            kept[key] = text
            size += entry
    return kept


def protect_event(event: PaymentEvent) -> PaymentEvent:
    """The event as the data map lets it be kept; the same object when nothing changes."""
    changes: dict[str, object] = {}
    metadata = filter_metadata(event.metadata) if isinstance(event.metadata, Mapping) else {}
    if metadata != event.metadata:
        changes["metadata"] = metadata
    for name in _FREE_TEXT_FIELDS:
        value = getattr(event, name)
        if isinstance(value, str):
            text = redact_text(value)[0]
            if text != value:
                changes[name] = text
    return replace(event, **changes) if changes else event


def protect_event_json(data: Mapping[str, object]) -> dict[str, object]:
    """``protect_event`` for an event as a JSON object (a reviewer's correction), before it
    is parsed: the same metadata cut and masked free text, every other key left as given."""
    out = dict(data)
    if isinstance(out.get("metadata"), Mapping):
        out["metadata"] = filter_metadata(out["metadata"])  # type: ignore[arg-type]
    for name in _FREE_TEXT_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = redact_text(out[name])[0]  # type: ignore[arg-type]
    return out


def _json_text_size(text: str) -> int:
    """The bytes of a JSON string's content, as compact JSON writes it (no quotes)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text)  # the common case, measured without encoding
    # surrogatepass: a lone surrogate still has a size, and never breaks the measure.
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass")) - 2


__all__ = ["filter_metadata", "protect_event", "protect_event_json"]
