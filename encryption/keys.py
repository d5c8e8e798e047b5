"""The key ring of the Temporal payload codec: ``id:base64key[,id:base64key...]``, parsed.

Pure and standard-library only, so settings, the codec and the stack's key generator share
one reading of the format. No message here ever contains key material: they name the key
by its id, and the setting by its name, so they are safe to print at startup.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets

# AES-256: the key is 32 bytes.
KEY_BYTES = 32
# Key ids travel in every encrypted payload's metadata, so they stay short and plain.
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# A random 32-byte key holds ~31 distinct byte values; a key with few is typed by hand
# (all zeros, a repeated word): a placeholder, not a key.
MIN_DISTINCT_KEY_BYTES = 16


class KeyRingError(ValueError):
    """The key ring setting cannot be used; the message says why, never what the key is."""

    def __init__(self, reason: str, key_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key_id = key_id


def _decode_key(key_id: str, text: str) -> bytes:
    # Standard or URL-safe alphabet, padding required; anything else is refused, not guessed.
    alphabet = text.replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(alphabet, validate=True)
    except (binascii.Error, ValueError):
        raise KeyRingError(f"key {key_id!r} is not base64", key_id) from None
    if len(key) != KEY_BYTES:
        raise KeyRingError(f"key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}",
                           key_id)
    if len(set(key)) < MIN_DISTINCT_KEY_BYTES:
        raise KeyRingError(f"key {key_id!r} is not random (a placeholder?); make one with "
                           "`openssl rand -base64 32`", key_id)
    return key


def parse_key_ring(text: str) -> dict[str, bytes]:
    """Key id -> 32-byte key, in the order given; KeyRingError names what is wrong."""
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if not entries:
        raise KeyRingError("no keys: expected id:base64key[,id:base64key...]")
    ring: dict[str, bytes] = {}
    for number, entry in enumerate(entries, 1):
        key_id, colon, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not colon:
            raise KeyRingError(f"entry {number} has no ':' (expected id:base64key)")
        if not KEY_ID_PATTERN.fullmatch(key_id):
            raise KeyRingError(f"entry {number}: key id {key_id[:70]!r} must match "
                               f"{KEY_ID_PATTERN.pattern}")
        if key_id in ring:
            raise KeyRingError(f"key id {key_id!r} is given twice", key_id)
        ring[key_id] = _decode_key(key_id, encoded.strip())
    return ring


def new_key_entry(key_id: str) -> str:
    """A fresh ``id:base64key`` entry with a random key (for the local stack and rotation)."""
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise KeyRingError(f"key id {key_id!r} must match {KEY_ID_PATTERN.pattern}", key_id)
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"
