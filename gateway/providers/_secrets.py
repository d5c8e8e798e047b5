"""Rules every provider credential obeys: no placeholder, a minimum length, a key list.

Each provider module's ``Settings`` applies them in its own pydantic validators, with the
minimum its provider's real keys meet, so that a bad value stops startup naming the
setting and the rule it breaks. Pure functions: the messages never quote the value.
"""

from __future__ import annotations

# Values copied from docs or templates that must never reach production.
_PLACEHOLDERS = frozenset({"changeme", "change-me", "whsec_...", "whsec_xxx", "secret", "todo"})
# .env.example's values say "replace_me"; copying the file unedited must not start a gateway.
_PLACEHOLDER_MARK = "replace_me"
# A generated key of 16+ characters has well over this many distinct ones (a random 32-hex
# key misses 8 of 16 digits with odds below 1e-9); "0000...", "xxxx..." or "abab..." do not.
_MIN_DISTINCT = 8


def is_placeholder(value: str) -> bool:
    """A value copied from a template or typed to fill a slot, not a generated secret."""
    lowered = value.lower()
    return lowered in _PLACEHOLDERS or _PLACEHOLDER_MARK in lowered


def split_keys(name: str, value: str) -> tuple[str, ...]:
    """``a,b,c`` as keys, each stripped: several are accepted while one is being rotated."""
    keys = tuple(part.strip() for part in value.split(","))
    if not any(keys):
        raise ValueError(f"{name} must hold at least one key")
    if not all(keys):
        raise ValueError(f"{name} has an empty entry between commas")
    if len(set(keys)) != len(keys):
        raise ValueError(f"{name} lists the same key twice")
    return keys


def check_secret(name: str, secret: str, *, min_length: int, why: str) -> None:
    """Refuse a placeholder or a secret shorter than ``min_length``; ``why`` says whose rule."""
    if is_placeholder(secret):
        raise ValueError(f"{name} holds a placeholder, not a real secret")
    if len(secret) < min_length:
        raise ValueError(f"{name} must be at least {min_length} characters ({why}); "
                         f"one entry has {len(secret)}")
    if len(set(secret.lower())) < _MIN_DISTINCT:
        raise ValueError(f"{name} holds a placeholder: fewer than {_MIN_DISTINCT} distinct "
                         f"characters, which no generated key has")


def check_keys(name: str, value: str, *, min_length: int, why: str) -> str:
    """A comma-separated key list whose every key passes ``check_secret``, normalized."""
    keys = split_keys(name, value)
    for key in keys:
        check_secret(name, key, min_length=min_length, why=why)
    return ",".join(keys)


__all__ = ["check_keys", "check_secret", "is_placeholder", "split_keys"]
