"""The payload codec: round trip, rotation, tampering, unknown key ids, encoded failures."""

from __future__ import annotations

import base64
import secrets

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError

from contracts import PaymentEvent
from encryption import (
    ENCODING,
    KEY_ID_KEY,
    EncryptionCodec,
    PayloadAuthenticationError,
    UnknownKeyIdError,
    encrypted_data_converter,
)
from tests.builders import make_payment_event


def a_key() -> bytes:
    return secrets.token_bytes(32)


OLD, NEW = a_key(), a_key()


def converter(keys: dict[str, bytes], current: str) -> DataConverter:
    return encrypted_data_converter(EncryptionCodec(keys, current))


async def test_an_event_round_trips_and_nothing_of_it_is_readable_on_the_wire():
    event = make_payment_event(customer_id="cus_private_42", metadata={"order": "o-secret"})
    dc = converter({"k1": OLD}, "k1")
    [payload] = await dc.encode([event])
    assert payload.metadata["encoding"] == ENCODING
    assert payload.metadata[KEY_ID_KEY] == b"k1"
    plain = DataConverter.default.payload_converter.to_payloads([event])[0].data
    # Field names and quoted values: long enough that random bytes never hold them.
    for value in (event.event_id, event.customer_id, "o-secret", '"amount_cents"',
                  f'"{event.currency}"', '"stripe"', plain[:16].decode()):
        assert value.encode() not in payload.data, value
    assert await dc.decode([payload], [PaymentEvent]) == [event]


async def test_each_encryption_takes_a_fresh_nonce():
    dc = converter({"k1": OLD}, "k1")
    first, second = await dc.encode(["same", "same"])
    assert first.data != second.data
    assert await dc.decode([first, second]) == ["same", "same"]


async def test_rotation_old_payloads_still_decode_and_new_ones_use_the_new_key():
    before = converter({"old": OLD}, "old")
    [sealed_before] = await before.encode([{"amount_cents": 4200}])
    # Step 1 of a rotation: every reader gets the new key; the old one still encrypts.
    both_old_current = converter({"old": OLD, "new": NEW}, "old")
    assert await both_old_current.decode([sealed_before]) == [{"amount_cents": 4200}]
    # Step 2: the new key encrypts; what the old one sealed still opens.
    after = converter({"old": OLD, "new": NEW}, "new")
    [sealed_after] = await after.encode([{"amount_cents": 4200}])
    assert sealed_after.metadata[KEY_ID_KEY] == b"new"
    assert await after.decode([sealed_before, sealed_after]) == [{"amount_cents": 4200}] * 2
    # Step 1's readers already open what step 2 writes.
    assert await both_old_current.decode([sealed_after]) == [{"amount_cents": 4200}]
    # Step 3: once the old key is dropped, its payloads name it plainly.
    with pytest.raises(UnknownKeyIdError, match="'old'"):
        await converter({"new": NEW}, "new").decode([sealed_before])


async def test_tampered_ciphertext_is_refused():
    codec = EncryptionCodec({"k1": OLD}, "k1")
    [sealed] = await codec.encode([Payload(metadata={"encoding": b"json/plain"},
                                           data=b'{"amount_cents": 4200}')])
    for position in (0, 12, len(sealed.data) - 1):  # the nonce, the ciphertext, the tag
        data = bytearray(sealed.data)
        data[position] ^= 0x01
        tampered = Payload(metadata=dict(sealed.metadata), data=bytes(data))
        with pytest.raises(PayloadAuthenticationError, match="'k1'") as refused:
            await codec.decode([tampered])
        assert refused.value.reason == "payload_authentication_failed"
    short = Payload(metadata=dict(sealed.metadata), data=sealed.data[:20])
    with pytest.raises(PayloadAuthenticationError):
        await codec.decode([short])


async def test_relabelling_a_payload_with_another_key_id_is_refused():
    """The key id is authenticated: a payload cannot be passed off as another key's."""
    codec = EncryptionCodec({"a": OLD, "b": OLD}, "a")
    [sealed] = await codec.encode([Payload(data=b"x")])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID_KEY: b"b"}, data=sealed.data)
    with pytest.raises(PayloadAuthenticationError, match="'b'"):
        await codec.decode([relabelled])


async def test_a_wrong_key_under_a_known_id_is_refused():
    [sealed] = await EncryptionCodec({"k1": OLD}, "k1").encode([Payload(data=b"x")])
    with pytest.raises(PayloadAuthenticationError):
        await EncryptionCodec({"k1": NEW}, "k1").decode([sealed])


async def test_an_unknown_key_id_is_named_with_the_ids_held():
    [sealed] = await EncryptionCodec({"gone-2025": OLD}, "gone-2025").encode([Payload(data=b"x")])
    with pytest.raises(UnknownKeyIdError) as unknown:
        await EncryptionCodec({"k1": NEW, "k2": a_key()}, "k1").decode([sealed])
    assert unknown.value.key_id == "gone-2025" and unknown.value.reason == "unknown_key_id"
    assert "'gone-2025'" in str(unknown.value) and "TEMPORAL_CODEC_KEYS" in str(unknown.value)
    assert "k1, k2" in str(unknown.value)
    with pytest.raises(UnknownKeyIdError, match="'nope'"):
        EncryptionCodec({"k1": NEW}, "nope")


async def test_a_payload_written_before_encryption_passes_through():
    """Workflows started before encryption was turned on must still finish."""
    plain = DataConverter.default.payload_converter.to_payloads([{"a": 1}])
    dc = converter({"k1": OLD}, "k1")
    assert await dc.decode(plain) == [{"a": 1}]


async def test_failure_messages_are_encrypted_and_read_back_with_the_key():
    dc = converter({"k1": OLD}, "k1")
    failure = Failure()
    await dc.encode_failure(ApplicationError("amount_cents differs: 4200 != 9999 for "
                                             "cus_private_42", "detail-secret"), failure)
    wire = failure.SerializeToString()
    for secret in (b"cus_private_42", b"4200", b"detail-secret"):
        assert secret not in wire
    assert "cus_private_42" not in failure.message
    error = await dc.decode_failure(failure)
    assert "cus_private_42" in str(error) and error.details == ("detail-secret",)


def test_a_key_is_base64_in_its_setting():
    # What the stack writes (encryption.keys.new_key_entry) is what the codec reads.
    from encryption import new_key_entry, parse_key_ring

    entry = new_key_entry("local-1")
    key_id, _, encoded = entry.partition(":")
    assert parse_key_ring(entry) == {"local-1": base64.b64decode(encoded)}
