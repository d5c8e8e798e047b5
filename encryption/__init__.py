"""Temporal payload encryption shared by every process that talks to Temporal.

One definition of the codec (AES-256-GCM, keys named by id for rotation), its settings and
the data converter built from them: the orchestration worker, the Faust starter, the review
CLI, the codec server for the Temporal UI, the stack and the tests all use these.
"""

from encryption.codec import (
    ENCODING,
    KEY_ID_KEY,
    EncryptionCodec,
    PayloadAuthenticationError,
    PayloadDecryptionError,
    UnknownKeyIdError,
    encrypted_data_converter,
)
from encryption.keys import KeyRingError, new_key_entry, parse_key_ring
from encryption.settings import (
    KEY_ID_SETTING,
    KEYS_SETTING,
    SETTING_NAMES,
    CodecSettings,
    invalid_settings,
)

__all__ = [
    "ENCODING",
    "KEY_ID_KEY",
    "KEY_ID_SETTING",
    "KEYS_SETTING",
    "SETTING_NAMES",
    "CodecSettings",
    "EncryptionCodec",
    "KeyRingError",
    "PayloadAuthenticationError",
    "PayloadDecryptionError",
    "UnknownKeyIdError",
    "encrypted_data_converter",
    "invalid_settings",
    "new_key_entry",
    "parse_key_ring",
]
