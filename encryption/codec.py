"""AES-256-GCM for Temporal payloads, keys named by id so they can be rotated.

Every payload the worker, the starter, the review CLI and the tests send through Temporal
passes ``PayloadCodec.encode`` before it leaves the process, so the server's histories hold
ciphertext only. An encrypted payload is:

* ``metadata``: ``encoding`` = ``binary/encrypted`` and ``encryption-key-id`` = the id of the
  key that sealed it;
* ``data``: a fresh 12-byte nonce, then the AES-GCM ciphertext and tag of the original
  payload serialized whole (its own metadata, e.g. ``json/plain``, travels inside).

The key id is the additional authenticated data, so relabelling a payload with another
id fails authentication like any other change. Encoding uses the current key; decoding
accepts any key of the ring, which is what makes rotation possible. A payload that is not
``binary/encrypted`` is passed through as it is: it was written before encryption was
turned on, and refusing it would strand the workflows already in flight.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
ENCODING_KEY = "encoding"
KEY_ID_KEY = "encryption-key-id"
NONCE_BYTES = 12
_TAG_BYTES = 16


class PayloadDecryptionError(Exception):
    """A payload could not be decrypted; ``reason`` is a stable code for error bodies."""

    reason = "payload_undecryptable"

    def __init__(self, message: str, key_id: str) -> None:
        super().__init__(message)
        self.key_id = key_id


class UnknownKeyIdError(PayloadDecryptionError):
    """The payload names a key id that this process was not given."""

    reason = "unknown_key_id"

    def __init__(self, key_id: str, known: Sequence[str]) -> None:
        super().__init__(f"payload encrypted with key id {key_id!r}, which TEMPORAL_CODEC_KEYS "
                         f"does not hold (it holds: {', '.join(known)})", key_id)
        self.known = tuple(known)


class PayloadAuthenticationError(PayloadDecryptionError):
    """The ciphertext, its nonce or its key id was changed, or the key is not the one used."""

    reason = "payload_authentication_failed"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"payload under key id {key_id!r} failed authentication: it was "
                         "altered, or TEMPORAL_CODEC_KEYS holds another key under that id",
                         key_id)


class EncryptionCodec(PayloadCodec):
    """Seal with the current key; open with whichever key of the ring the payload names."""

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        if current_key_id not in keys:
            raise UnknownKeyIdError(current_key_id, list(keys))
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current_key_id = current_key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.current_key_id.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current_key_id].encrypt(
            nonce, payload.SerializeToString(deterministic=True), key_id)
        return Payload(metadata={ENCODING_KEY: ENCODING, KEY_ID_KEY: key_id}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get(ENCODING_KEY) != ENCODING:
            return payload
        raw_id = payload.metadata.get(KEY_ID_KEY, b"")
        key_id = raw_id.decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyIdError(key_id, self.key_ids)
        if len(payload.data) < NONCE_BYTES + _TAG_BYTES:
            raise PayloadAuthenticationError(key_id)
        try:
            opened = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:],
                                    raw_id)
        except InvalidTag:
            raise PayloadAuthenticationError(key_id) from None
        return Payload.FromString(opened)


def encrypted_data_converter(codec: EncryptionCodec) -> DataConverter:
    """The converter every Temporal client of the pipeline uses.

    Failures' messages and stack traces are moved into an encoded payload too: an
    activity's error names fields and values of the event, and a plain message would sit
    readable in the history beside the encrypted input.
    """
    return DataConverter(payload_codec=codec,
                         failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
