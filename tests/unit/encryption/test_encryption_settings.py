"""The codec's settings: a bad key ring or key id stops startup naming the setting."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from encryption import (
    KEY_ID_SETTING,
    KEYS_SETTING,
    CodecSettings,
    EncryptionCodec,
    KeyRingError,
    invalid_settings,
    new_key_entry,
    parse_key_ring,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
K1, K2 = new_key_entry("k1"), new_key_entry("k2")


@pytest.fixture(autouse=True)
def no_inherited_codec(monkeypatch):
    # tests/conftest.py exports the stack's key; these tests set their own.
    for name in (KEYS_SETTING, KEY_ID_SETTING):
        monkeypatch.delenv(name, raising=False)


def refused(monkeypatch, keys: str | None, key_id: str | None) -> ValidationError:
    for name, value in ((KEYS_SETTING, keys), (KEY_ID_SETTING, key_id)):
        if value is not None:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as err:
        CodecSettings()
    return err.value


def test_a_ring_of_two_with_the_second_current(monkeypatch):
    monkeypatch.setenv(KEYS_SETTING, f"{K1}, {K2}")
    monkeypatch.setenv(KEY_ID_SETTING, "k2")
    settings = CodecSettings()
    assert list(settings.keys()) == ["k1", "k2"]
    codec = settings.codec()
    assert isinstance(codec, EncryptionCodec) and codec.current_key_id == "k2"
    assert settings.data_converter().payload_codec is not None
    assert K1.split(":")[1] not in repr(settings)  # a SecretStr


def test_missing_settings_are_named(monkeypatch):
    err = refused(monkeypatch, None, None)
    assert invalid_settings(err) == f"{KEYS_SETTING}, {KEY_ID_SETTING}"


@pytest.mark.parametrize(("keys", "reason"), [
    ("", "no keys"),
    ("k1", "has no ':'"),
    ("k1:not base64!", "not base64"),
    ("k1:" + base64.b64encode(b"x" * 16).decode(), "is 16 bytes; AES-256 needs 32"),
    ("k1:" + base64.b64encode(bytes(32)).decode(), "not random"),
    ("k1:replace_me_with_openssl_rand_base64_32", "not base64"),
    (f"{K1},{K1}", "given twice"),
    ("bad id:" + K1.split(":")[1], "must match"),
])
def test_an_unusable_ring_is_refused_naming_the_setting_and_never_the_key(monkeypatch, keys,
                                                                          reason):
    err = refused(monkeypatch, keys, "k1")
    assert invalid_settings(err) == KEYS_SETTING
    assert reason in str(err) and KEYS_SETTING in str(err)
    secret = keys.partition(":")[2]
    if len(secret) > 8:
        assert secret not in str(err)
    with pytest.raises(KeyRingError, match=reason.split(";")[0]):
        parse_key_ring(keys)


def test_the_current_key_id_must_be_in_the_ring(monkeypatch):
    err = refused(monkeypatch, f"{K1},{K2}", "k3")
    assert invalid_settings(err) == KEY_ID_SETTING
    assert "'k3' is not an id of TEMPORAL_CODEC_KEYS (its ids: k1, k2)" in str(err)


def test_urlsafe_base64_is_read_too():
    key = bytes(range(32))
    assert parse_key_ring("k:" + base64.urlsafe_b64encode(key).decode()) == {"k": key}


def test_the_compose_example_placeholder_is_refused(monkeypatch):
    example = dict(line.split("=", 1) for line in (REPO_ROOT / ".env.example").read_text()
                   .splitlines() if line and not line.startswith("#"))
    err = refused(monkeypatch, example[KEYS_SETTING], example[KEY_ID_SETTING])
    assert invalid_settings(err) == KEYS_SETTING
