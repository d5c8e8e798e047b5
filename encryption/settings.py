"""The codec's settings, read by every process that talks to Temporal with payloads.

    TEMPORAL_CODEC_KEYS    id:base64key[,id:base64key...]  every key that may decrypt
    TEMPORAL_CODEC_KEY_ID  the id of the key that encrypts (one of the ids above)

The names carry no service prefix: the worker, the starter, the review CLI and the codec
server must hold the same ring, and one name for it everywhere keeps them from drifting.
A missing or unusable value stops startup with a message naming the setting; the input is
kept out of the message (``hide_input_in_errors``), as it is key material.
"""

from __future__ import annotations

from pydantic import SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.converter import DataConverter

from encryption.codec import EncryptionCodec, encrypted_data_converter
from encryption.keys import KEY_ID_PATTERN, KeyRingError, parse_key_ring

KEYS_SETTING = "TEMPORAL_CODEC_KEYS"
KEY_ID_SETTING = "TEMPORAL_CODEC_KEY_ID"
SETTING_NAMES = (KEYS_SETTING, KEY_ID_SETTING)


class CodecSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    TEMPORAL_CODEC_KEYS: SecretStr
    TEMPORAL_CODEC_KEY_ID: str

    @field_validator("TEMPORAL_CODEC_KEYS")
    @classmethod
    def check_keys(cls, value: SecretStr) -> SecretStr:
        try:
            parse_key_ring(value.get_secret_value())
        except KeyRingError as err:
            raise ValueError(f"{KEYS_SETTING}: {err.reason}") from None
        return value

    @field_validator("TEMPORAL_CODEC_KEY_ID")
    @classmethod
    def check_key_id(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if not KEY_ID_PATTERN.fullmatch(value):
            raise ValueError(f"{KEY_ID_SETTING} must match {KEY_ID_PATTERN.pattern}")
        keys = info.data.get(KEYS_SETTING)
        if keys is not None:  # else the ring's own error is reported
            ids = list(parse_key_ring(keys.get_secret_value()))
            if value not in ids:
                raise ValueError(f"{KEY_ID_SETTING} {value!r} is not an id of {KEYS_SETTING} "
                                 f"(its ids: {', '.join(ids)})")
        return value

    def keys(self) -> dict[str, bytes]:
        return parse_key_ring(self.TEMPORAL_CODEC_KEYS.get_secret_value())

    def codec(self) -> EncryptionCodec:
        return EncryptionCodec(self.keys(), self.TEMPORAL_CODEC_KEY_ID)

    def data_converter(self) -> DataConverter:
        """Pass this to ``Client.connect(..., data_converter=...)``."""
        return encrypted_data_converter(self.codec())


def invalid_settings(err: Exception) -> str:
    """The names of the settings a ValidationError of CodecSettings is about, comma-separated."""
    errors = getattr(err, "errors", lambda: [])()
    return ", ".join(str(e["loc"][0]) for e in errors if e.get("loc")) or ", ".join(SETTING_NAMES)
