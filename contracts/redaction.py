"""Redaction of a payload before any copy of it is kept: pure, standard library only.

A dead letter, its review workflow and its quarantine row keep ``redact_payload``'s text,
never the payload: every key the data map masks (``contracts.data_map_index.MASKED_KEYS``)
has its value replaced by ``MASK`` at any depth, and card numbers (Luhn-valid runs of 13 to
19 digits) and e-mail addresses are masked wherever they appear. The original stays on its
raw topic, addressed by coordinates, for ``python -m orchestration.review show``.

A payload is read as what it is: JSON (masked by structure, so a whole subtree under a masked
key goes; a document cut short is closed first, ``contracts.redaction_text.complete_json``),
an url-encoded form (each field, and a base64 field holding XML or JSON, masked in turn:
Braintree's ``bt_payload``), or else text, where ``"key": value`` pairs, ``<key>value``
elements and ``key=value`` fields are masked by pattern (``redact_text``). Bytes that are not
UTF-8 cannot be read at all, so none of them are kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from contracts.data_map import MASK
from contracts.data_map_index import is_masked_key
from contracts.redaction_text import complete_json, is_card_number, redact_text

REDACTED = "redacted"  # the text is the payload with the data map's masks applied
WITHHELD = "withheld"  # the payload could not be read, so nothing of it is kept
_FORM_START = re.compile(r"[\w.%+-]{1,100}=[^\s]*(?:&|\Z)")


@dataclass(frozen=True, slots=True)
class Redaction:
    """A payload's redacted text (None when withheld) and how many values were masked."""

    text: str | None
    masked: int

    @property
    def label(self) -> str:
        return WITHHELD if self.text is None else REDACTED


def redact_payload(raw: bytes) -> Redaction:
    """The payload as a copy may keep it. Unchanged text is returned as it was."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Redaction(None, 0)
    return redact_document(text)


def redact_document(text: str) -> Redaction:
    """Text redacted as the document it is (see the module's docstring)."""
    for candidate in (text, complete_json(text)):
        if candidate is None:
            continue
        try:
            document = json.loads(candidate, object_pairs_hook=_Members)
        except (ValueError, RecursionError):
            continue
        try:
            return _redact_document(text, document)
        except RecursionError:  # deeper than a walk may go: read it as text instead
            break
    form = _read_form(text)
    if form is not None:
        return _redact_form(text, form)
    return Redaction(*redact_text(text))


class _Members(list):
    """A JSON object's members in order, a repeated key kept: a dict would keep only the last
    of two equal keys, and hide the first one's value from redaction."""


def _members(value: Any) -> list[tuple[str, Any]] | None:
    if isinstance(value, _Members):
        return value
    return list(value.items()) if isinstance(value, dict) else None


def redact_value(value: Any) -> tuple[Any, int]:
    """A parsed JSON value with every masked key's value masked, at any depth."""
    members = _members(value)
    if members is not None:
        out: dict[str, Any] = {}
        count = 0
        for key, item in members:
            new_key, n = redact_text(key)
            count += n
            if is_masked_key(key):
                item, n = mask_value(item)
            else:
                item, n = redact_value(item)
            out[_unique(out, new_key)] = item
            count += n
        return out, count
    if isinstance(value, list):
        items = [redact_value(item) for item in value]
        return [item for item, _ in items], sum(n for _, n in items)
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and is_card_number(str(value)):
        return MASK, 1  # a card number sent as a JSON number
    return value, 0


def mask_value(value: Any) -> tuple[Any, int]:
    """Every value beneath a masked key, masked; the shape, nulls and empty strings stay."""
    members = _members(value)
    if members is not None:
        out: dict[str, Any] = {}
        count = 0
        for key, item in members:
            out[_unique(out, key)], n = mask_value(item)
            count += n
        return out, count
    if isinstance(value, list):
        items = [mask_value(item) for item in value]
        return [item for item, _ in items], sum(n for _, n in items)
    if value is None or value in ("", MASK):
        return value, 0
    return MASK, 1


def _redact_document(text: str, document: Any) -> Redaction:
    value, count = redact_value(document)
    if count == 0:
        return Redaction(text, 0)
    return Redaction(_dumps(value), count)


def _dumps(value: Any) -> str:
    # A lone surrogate (JSON may escape one) is no UTF-8, so no copy could store it.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "replace").decode("utf-8")


def _read_form(text: str) -> list[tuple[str, str]] | None:
    """The fields of an url-encoded form, or None when the text does not start as one. A
    form cut short (an excerpt) is still read: its last field is then cut too."""
    if not _FORM_START.match(text):
        return None
    try:
        return parse_qsl(text, keep_blank_values=True)
    except ValueError:
        return None


def _redact_form(text: str, form: list[tuple[str, str]]) -> Redaction:
    """The form as a JSON object (a reviewer reads it; nothing signs a copy), each field
    masked, and a base64 field that holds a document decoded and redacted as one."""
    fields: dict[str, Any] = {}
    count = 0
    for key, value in form:
        if is_masked_key(key):
            value, n = mask_value(value)
        elif (inner := _decoded_document(value)) is not None:
            redacted = redact_document(inner)
            value, n = redacted.text or "", redacted.masked
        else:
            value, n = redact_text(value)
        new_key, m = redact_text(key)
        count += n + m
        fields[_unique(fields, new_key)] = value
    return Redaction(_dumps(fields), count) if count else Redaction(text, 0)


def _decoded_document(value: str) -> str | None:
    """The text of a base64 form field that holds XML or JSON (Braintree's bt_payload); of
    a field cut short, what its whole groups of four characters still hold."""
    compact = re.sub(r"\s", "", value)
    compact = compact[:len(compact) // 4 * 4]
    if len(compact) < 8:
        return None
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.reason != "unexpected end of data":  # binary, not a document cut short
            return None
        text = decoded[:err.start].decode("utf-8")
    return text if text.lstrip()[:1] in ("<", "{", "[") else None


def _unique(taken: dict[str, Any], key: str) -> str:
    # Two keys that mask to one ("a@b.c" and "d@e.f") must not overwrite each other.
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}#{n}"
    return candidate


__all__ = ["REDACTED", "WITHHELD", "Redaction", "mask_value", "redact_document", "redact_payload",
           "redact_text", "redact_value"]


def readable_texts(text: str) -> list[str]:
    """The text, then each base64 document inside it that a form field holds (Braintree's
    ``bt_payload``): what a search for a value in a copy must read, as ids inside a base64
    field are not in the text itself (batch.erasure finds a customer's quarantine rows)."""
    texts = [text]
    for _, value in _read_form(text) or ():
        if (inner := _decoded_document(value)) is not None:
            texts.append(inner)
    return texts
