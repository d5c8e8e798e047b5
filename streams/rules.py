"""Pure validation of provider payload values: nulls, amounts, currencies, card digits.

No I/O and no faust, so every rule is unit-tested directly. Each failure carries a
stable error code that dashboards and reviewers key on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from contracts.currencies import MAX_AMOUNT_MINOR, SUPPORTED_CURRENCIES
from contracts.dead_letters import ValidationIssue

NULL_TOKENS = frozenset({"null", "none"})
_LAST_FOUR = re.compile(r"[0-9]{4}")


class FieldError(Exception):
    """One field failed one rule; the mapping collects these into a dead letter."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def as_issue(self) -> ValidationIssue:
        return ValidationIssue(code=self.code, message=self.message, field=self.field)


class InvalidEventError(Exception):
    """The input cannot become a PaymentEvent: dead-letter it, never retry."""

    def __init__(
        self,
        issues: list[ValidationIssue],
        *,
        provider: str | None = None,
        provider_event_id: str | None = None,
    ) -> None:
        super().__init__("; ".join(f"{i.code}: {i.message}" for i in issues))
        self.issues = issues
        self.provider = provider
        self.provider_event_id = provider_event_id


def normalize_null(value: Any) -> Any:
    """Map the spellings of "no value" providers and hand-written payloads use to None."""
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped or stripped.lower() in NULL_TOKENS:
            return None
    return value


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a Kafka value into a JSON object or raise InvalidEventError."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        issue = ValidationIssue("payload.not_json", f"value is not valid JSON: {exc}")
        raise InvalidEventError([issue]) from None
    if not isinstance(payload, dict):
        kind = type(payload).__name__
        issue = ValidationIssue("payload.not_object", f"value is JSON {kind}, not an object")
        raise InvalidEventError([issue])
    return payload


def require_text(value: Any, field: str) -> str:
    text = optional_text(value, field)
    if text is None:
        raise FieldError("field.missing", f"{field} is required", field)
    return text


def optional_text(value: Any, field: str) -> str | None:
    value = normalize_null(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError("field.wrong_type", f"{field} must be a string", field)
    return value.strip()


def check_amount(value: Any, field: str = "amount") -> int:
    """An integer count of minor units in 0..MAX_AMOUNT_MINOR; never coerced or scaled.

    A float or numeric string means the producer did arithmetic or formatting on the
    amount; truncating it could silently move money, so it is rejected instead.
    """
    value = normalize_null(value)
    if value is None:
        raise FieldError("field.missing", f"{field} is required", field)
    # bool is a subclass of int, and `true` is never an amount.
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(
            "amount.not_integer",
            f"{field} must be an integer in minor units, got {type(value).__name__} {value!r}",
            field,
        )
    if not 0 <= value <= MAX_AMOUNT_MINOR:
        raise FieldError(
            "amount.out_of_range", f"{field} {value} is outside 0..{MAX_AMOUNT_MINOR}", field
        )
    return value


def check_currency(value: Any, field: str = "currency") -> str:
    code = require_text(value, field).upper()
    if code not in SUPPORTED_CURRENCIES:
        raise FieldError("currency.unsupported", f"currency {code!r} is not supported", field)
    return code


def check_last_four(value: Any, field: str = "card_last_four") -> str | None:
    text = optional_text(value, field)
    if text is not None and not _LAST_FOUR.fullmatch(text):
        raise FieldError("card_last_four.invalid", f"{field} must be exactly 4 digits", field)
    return text


def check_epoch(value: Any, field: str = "created") -> datetime:
    value = normalize_null(value)
    if value is None:
        raise FieldError("field.missing", f"{field} is required", field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FieldError("created.invalid", f"{field} must be epoch seconds", field)
    return datetime.fromtimestamp(value, UTC)


def stringify_metadata(value: Any, field: str = "metadata") -> dict[str, str]:
    """Metadata as str -> str; null-like values are dropped, nested values become JSON."""
    value = normalize_null(value)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FieldError("metadata.invalid", f"{field} must be an object", field)
    result: dict[str, str] = {}
    for key, item in value.items():
        item = normalize_null(item)
        if item is None:
            continue
        result[str(key)] = _stringify(item)
    return result


def _stringify(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return str(item)
    return orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
