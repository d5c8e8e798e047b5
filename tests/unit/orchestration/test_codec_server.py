"""The codec endpoint for the Temporal UI, through its ASGI app: Temporal's remote codec
protocol, CORS for the UI's origin, refusals with reason codes, and its settings."""

from __future__ import annotations

import base64

import httpx
import pytest
from temporalio.converter import DataConverter

from encryption import KEY_ID_SETTING, KEYS_SETTING, EncryptionCodec, new_key_entry, parse_key_ring
from orchestration import codec_server
from orchestration.codec_server import MAX_BODY_BYTES, CodecServerSettings, create_app
from tests.builders import make_payment_event

UI = "http://127.0.0.1:8233"
RING = parse_key_ring(f"{new_key_entry('old')},{new_key_entry('new')}")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wire(payloads) -> dict:
    """Payloads as the UI sends them: proto JSON, bytes in base64."""
    return {"payloads": [{"metadata": {k: b64(v) for k, v in p.metadata.items()},
                          "data": b64(p.data)} for p in payloads]}


def codec_client(codec: EncryptionCodec) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(codec, [UI]))
    return httpx.AsyncClient(transport=transport, base_url="http://codec")


async def test_decode_opens_what_the_pipelines_converter_sealed():
    event = make_payment_event(customer_id="cus_private_7")
    sealed = await EncryptionCodec(RING, "old").encode(
        DataConverter.default.payload_converter.to_payloads([event]))
    async with codec_client(EncryptionCodec(RING, "new")) as client:
        answer = await client.post("/decode", json=wire(sealed), headers={"X-Namespace": "default"})
    assert answer.status_code == 200, answer.text
    [payload] = answer.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    assert b"cus_private_7" in base64.b64decode(payload["data"])


async def test_encode_seals_under_the_current_key_and_decode_reverses_it():
    plain = DataConverter.default.payload_converter.to_payloads([{"reviewer": "ana"}])
    async with codec_client(EncryptionCodec(RING, "new")) as client:
        sealed = await client.post("/encode", json=wire(plain))
        [payload] = sealed.json()["payloads"]
        assert base64.b64decode(payload["metadata"]["encryption-key-id"]) == b"new"
        assert b"ana" not in base64.b64decode(payload["data"])
        opened = await client.post("/decode", json=sealed.json())
    assert opened.json() == wire(plain)


async def test_the_ui_origin_passes_cors_and_another_origin_does_not():
    async with codec_client(EncryptionCodec(RING, "new")) as client:
        preflight = await client.options("/decode", headers={
            "Origin": UI, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == UI
        assert "X-Namespace" in preflight.headers["access-control-allow-headers"]
        assert preflight.headers["access-control-allow-credentials"] == "true"
        answer = await client.post("/decode", json={"payloads": []}, headers={"Origin": UI})
        assert answer.headers["access-control-allow-origin"] == UI
        elsewhere = await client.options("/decode", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        assert elsewhere.status_code == 400
        assert "access-control-allow-origin" not in elsewhere.headers


async def test_refusals_name_a_reason_and_never_an_exception_or_payload():
    [sealed] = await EncryptionCodec({"gone": RING["old"]}, "gone").encode(
        DataConverter.default.payload_converter.to_payloads(["cus_private_9"]))
    tampered = wire([sealed])
    data = bytearray(base64.b64decode(tampered["payloads"][0]["data"]))
    data[-1] ^= 1
    tampered["payloads"][0]["data"] = b64(bytes(data))
    tampered["payloads"][0]["metadata"]["encryption-key-id"] = b64(b"old")
    async with codec_client(EncryptionCodec(RING, "new")) as client:
        unknown = await client.post("/decode", json=wire([sealed]))
        altered = await client.post("/decode", json=tampered)
        garbage = await client.post("/decode", content=b'{"payloads": 3}')
        huge = await client.post("/decode", content=b" " * (MAX_BODY_BYTES + 1))
        wrong_verb = await client.get("/decode")
    assert unknown.status_code == 422
    assert unknown.json()["reason"] == "unknown_key_id" and unknown.json()["key_id"] == "gone"
    assert "'gone'" in unknown.json()["detail"]
    assert (altered.status_code, altered.json()["reason"]) == (422,
                                                               "payload_authentication_failed")
    assert (garbage.status_code, garbage.json()["reason"]) == (400, "invalid_payloads")
    assert (huge.status_code, huge.json()["reason"]) == (413, "body_too_large")
    assert wrong_verb.status_code == 405
    for answer in (unknown, altered, garbage, huge):
        assert "Error" not in answer.text and "cus_private_9" not in answer.text


async def test_health():
    async with codec_client(EncryptionCodec(RING, "new")) as client:
        answer = await client.get("/health")
    assert answer.json() == {"status": "ok", "current_key_id": "new"}


def test_settings_default_to_loopback_8089_and_the_local_ui(monkeypatch):
    monkeypatch.setenv(KEYS_SETTING, new_key_entry("k"))
    monkeypatch.setenv(KEY_ID_SETTING, "k")
    settings = CodecServerSettings()
    assert (settings.TEMPORAL_CODEC_SERVER_HOST, settings.TEMPORAL_CODEC_SERVER_PORT) == (
        "127.0.0.1", codec_server.DEFAULT_PORT) == ("127.0.0.1", 8089)
    assert settings.origins() == [UI, "http://localhost:8233"]


@pytest.mark.parametrize(("env", "named"), [
    ({}, KEYS_SETTING),
    ({KEY_ID_SETTING: "other"}, KEY_ID_SETTING),
    ({"TEMPORAL_CODEC_SERVER_PORT": "0"}, "TEMPORAL_CODEC_SERVER_PORT"),
])
def test_a_bad_setting_stops_it_naming_the_setting(monkeypatch, capsys, env, named):
    monkeypatch.delenv(KEYS_SETTING, raising=False)
    if env:
        monkeypatch.setenv(KEYS_SETTING, new_key_entry("k"))
        monkeypatch.setenv(KEY_ID_SETTING, "k")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert codec_server.main() == 2
    assert named in capsys.readouterr().err
