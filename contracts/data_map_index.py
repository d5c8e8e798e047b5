"""Lookups derived from the data map: which keys redaction masks, and each field's rule.

Derived, never edited: ``MASKED_KEYS`` is every key a MASKED rule of ``contracts.data_map``
names, and ``classify`` finds the rule of one field by the order the data map states.
"""

from __future__ import annotations

import re

from contracts.data_map import ANY_PROVIDER, FIELD_RULES, FieldRule, Treatment


def normalize_key(key: str) -> str:
    """A key as masking compares it: its last dotted part (Adyen's flat ``billingAddress.city``),
    lower case, letters and digits only, so exp_month, expMonth and exp-month are one key."""
    return re.sub(r"[^a-z0-9]", "", key.rsplit(".", 1)[-1].lower())


def _masked_keys() -> frozenset[str]:
    keys = set()
    for rule in FIELD_RULES:
        if rule.copies is Treatment.MASKED:
            for pattern in rule.paths:
                last = pattern.rsplit(".", 1)[-1]
                if not re.fullmatch(r"[A-Za-z0-9_]+", last):
                    raise ValueError(f"a masked pattern must end in a key name: {pattern!r}")
                keys.add(normalize_key(last))
    return frozenset(keys)


# Every key whose value a redacted copy masks, at any depth, for every provider alike: a
# dead letter may hold anything (a poison record names no provider one could trust).
MASKED_KEYS: frozenset[str] = _masked_keys()


def is_masked_key(key: str) -> bool:
    return normalize_key(key) in MASKED_KEYS


def rules_for(provider: str) -> tuple[FieldRule, ...]:
    """The rules a field of ``provider`` is classified by, in the order they are tried:
    masked ones first (masking follows the key wherever it is), then the provider's, then
    those for any provider, then the provider's fallbacks."""
    own = [r for r in FIELD_RULES if r.provider == provider]
    common = [r for r in FIELD_RULES if r.provider == ANY_PROVIDER]
    return tuple([r for r in own + common if r.copies is Treatment.MASKED]
                 + [r for r in own + common if r.copies is not Treatment.MASKED
                    and not r.fallback]
                 + [r for r in own if r.fallback])


def classify(provider: str, path: str) -> FieldRule | None:
    """The rule of one field (None: the map does not cover it, which a test refuses)."""
    return next((rule for rule in rules_for(provider) if matches(rule, path)), None)


def matches(rule: FieldRule, path: str) -> bool:
    """Whether a dotted path is one of the rule's fields, or lies beneath one."""
    return any(_compiled(pattern).match(path) for pattern in rule.paths)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    # Only "*" is special: "[]" in a path is literal, as fnmatch would not take it.
    if pattern not in _PATTERNS:
        body = ".*".join(re.escape(part) for part in pattern.split("*"))
        _PATTERNS[pattern] = re.compile(rf"{body}(?:[.\[].*)?\Z", re.S)
    return _PATTERNS[pattern]


__all__ = ["MASKED_KEYS", "classify", "is_masked_key", "matches", "normalize_key", "rules_for"]
