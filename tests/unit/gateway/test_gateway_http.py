"""Each row of the gateway's bad-input table, through the ASGI app over a fake publisher."""

from __future__ import annotations

import time

import orjson
import pytest
from gateway_support import FIXTURES, ROTATED_SECRET, sign

from contracts.topics import STRIPE_CHARGE, STRIPE_REFUND, WEBHOOKS_DLQ

URL = "/webhooks/stripe"
JSON = {"content-type": "application/json"}


def signed(body: bytes, **kwargs) -> dict[str, str]:
    return {**JSON, "stripe-signature": sign(body, **kwargs)}


def fixture(name: str) -> bytes:
    return next(p for p in FIXTURES if p.stem == name).read_bytes()


async def test_signed_event_is_published_with_key_value_and_headers(client, publisher):
    body = fixture("charge.refund.updated")
    response = await client.post(URL, content=body,
                                 headers={**signed(body), "x-request-id": "req-123"})
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted", "event_id": orjson.loads(body)["id"]}
    assert response.headers["x-request-id"] == "req-123"
    ((topic, key, value, headers),) = publisher.records
    assert (topic, key, value) == (STRIPE_REFUND, orjson.loads(body)["id"].encode(), body)
    header_map = dict(headers)
    assert set(header_map) == {"provider", "event_type", "received_at", "request_id"}
    assert header_map["provider"] == b"stripe"
    assert header_map["event_type"] == b"charge.refund.updated"
    assert header_map["request_id"] == b"req-123"
    assert header_map["received_at"].endswith(b"Z")


async def test_rotated_secret_is_accepted(client, publisher):
    body = fixture("charge.succeeded")
    response = await client.post(URL, content=body, headers=signed(body, secret=ROTATED_SECRET))
    assert response.status_code == 200
    assert publisher.records[0][0] == STRIPE_CHARGE


async def test_charset_parameter_on_json_is_fine(client):
    body = fixture("charge.succeeded")
    headers = {**signed(body), "content-type": "application/json; charset=utf-8"}
    assert (await client.post(URL, content=body, headers=headers)).status_code == 200


async def test_unsafe_request_id_is_replaced(client):
    body = fixture("charge.succeeded")
    response = await client.post(URL, content=body,
                                 headers={**signed(body), "x-request-id": "bad id\t<x>"})
    assert response.headers["x-request-id"] != "bad id\t<x>"
    assert len(response.headers["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (JSON, "signature_missing"),
        ({**JSON, "stripe-signature": "nonsense"}, "signature_malformed"),
        ({**JSON, "stripe-signature": f"t={int(time.time())},v1={'a' * 64}"},
         "signature_mismatch"),
    ],
)
async def test_bad_signatures_are_400_and_write_nothing(client, publisher, headers, reason):
    response = await client.post(URL, content=fixture("charge.succeeded"), headers=headers)
    assert response.status_code == 400
    assert response.json()["reason"] == reason
    assert "whsec" not in response.text
    assert publisher.records == []


@pytest.mark.parametrize(("offset", "reason"), [(-3600, "timestamp_expired"),
                                                (3600, "timestamp_in_future")])
async def test_stale_timestamps_are_400(client, publisher, offset, reason):
    body = fixture("charge.succeeded")
    response = await client.post(URL, content=body,
                                 headers=signed(body, timestamp=int(time.time()) + offset))
    assert (response.status_code, response.json()["reason"]) == (400, reason)
    assert publisher.records == []


@pytest.mark.parametrize(("body", "reason"), [(b"not json at all", "body_not_json"),
                                              (b"{\"id\": \"\xff\"}", "body_not_utf8")])
async def test_signed_garbage_is_400(client, publisher, body, reason):
    response = await client.post(URL, content=body, headers=signed(body))
    assert (response.status_code, response.json()["reason"]) == (400, reason)
    assert publisher.records == []


async def test_body_over_the_limit_is_413(client, publisher, settings):
    body = b'{"pad": "' + b"x" * settings.MAX_BODY_BYTES + b'"}'
    response = await client.post(URL, content=body, headers=signed(body))
    assert (response.status_code, response.json()["reason"]) == (413, "body_too_large")
    assert publisher.records == []


async def test_chunked_body_over_the_limit_is_413(client, publisher, settings):
    async def chunks():
        for _ in range(settings.MAX_BODY_BYTES // 4096 + 2):
            yield b"x" * 4096

    response = await client.post(URL, content=chunks(), headers={**JSON,
                                                                 "stripe-signature": "t=1,v1=a"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert publisher.records == []


async def test_content_length_that_lies_low_is_still_413(client, settings):
    body = b"x" * (settings.MAX_BODY_BYTES + 10)

    async def chunks():
        yield body

    response = await client.post(URL, content=chunks(),
                                 headers={**JSON, "content-length": "10",
                                          "stripe-signature": "t=1,v1=a"})
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/jsonp"])
async def test_wrong_content_type_is_415(client, publisher, content_type):
    body = fixture("charge.succeeded")
    headers = {"stripe-signature": sign(body)}
    if content_type:
        headers["content-type"] = content_type
    response = await client.post(URL, content=body, headers=headers)
    assert (response.status_code, response.json()["reason"]) == (415, "unsupported_media_type")
    assert publisher.records == []


@pytest.mark.parametrize(
    ("body", "reason", "event_id"),
    [
        (b'{"id": "evt_bad1", "type": "charge.succeeded", "data": {}}', "invalid_structure",
         "evt_bad1"),
        (b'{"id": "evt_bad2", "type": "customer.created", "data": {"object": {"object": "c"}}}',
         "unknown_event_type", "evt_bad2"),
        (b"[1, 2]", "invalid_structure", None),
    ],
)
async def test_authentic_but_invalid_events_go_to_the_dlq(client, publisher, body, reason,
                                                          event_id):
    response = await client.post(URL, content=body, headers={**signed(body),
                                                             "x-request-id": "req-dlq"})
    assert response.status_code == 200
    assert response.json()["status"] == "dead_lettered"
    ((topic, key, value, headers),) = publisher.records
    assert topic == WEBHOOKS_DLQ
    assert key == (event_id or "request:req-dlq").encode()
    # The value is the body exactly as received; why it was refused is in the headers.
    assert value == body
    header_map = {name: value.decode() for name, value in headers}
    expected = ["provider", "reason", "detail", "event_id", "received_at", "request_id"]
    assert list(header_map) == [n for n in expected if n != "event_id" or event_id]
    assert (header_map["provider"], header_map["reason"]) == ("stripe", reason)
    assert header_map["request_id"] == "req-dlq"
    assert header_map.get("event_id") == event_id
    assert header_map["detail"] and header_map["received_at"].endswith("Z")


async def test_broker_unavailable_is_503_with_reason(client, publisher):
    publisher.unavailable = True
    body = fixture("charge.succeeded")
    response = await client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 503
    assert response.json()["reason"] == "kafka_unavailable"
    assert response.headers["retry-after"] == "1"
    assert (await client.get("/ready")).status_code == 503


async def test_unexpected_publisher_failure_is_503_not_500(client, publisher):
    async def explode(*args):
        raise RuntimeError("boom")

    publisher.publish = explode
    body = fixture("charge.succeeded")
    response = await client.post(URL, content=body, headers=signed(body))
    assert (response.status_code, response.json()["reason"]) == (503, "internal_error")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/webhooks/nope", 404), ("GET", URL, 405), ("GET", "/nowhere", 404)],
)
async def test_framework_errors_are_json(client, method, path, status):
    response = await client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert "reason" in response.json()


async def test_health_ready_and_metrics(client, admin_client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/ready")).json() == {"status": "ready"}
    body = fixture("charge.succeeded")
    await client.post(URL, content=body, headers=signed(body))
    await client.post(URL, content=body, headers=JSON)
    metrics = (await admin_client.get("/metrics")).text
    assert 'gateway_webhooks_total{outcome="accepted",provider="stripe"} 1.0' in metrics
    assert 'gateway_webhooks_total{outcome="signature_missing",provider="stripe"} 1.0' in metrics
    assert "gateway_request_duration_seconds_bucket" in metrics


async def test_bench_endpoints_are_off_by_default(client):
    assert (await client.post("/bench/bare")).status_code == 404
    assert (await client.post("/bench/bare-route")).status_code == 404


@pytest.mark.parametrize("path", ["/bench/bare", "/bench/bare-route"])
async def test_bench_endpoints_when_enabled_are_a_bare_200(settings, publisher, path):
    import httpx

    from gateway.app import create_app

    app = create_app(settings.model_copy(update={"BENCH_ENDPOINT": True}), publisher=publisher)
    transport = httpx.ASGITransport(app=app)
    admin = httpx.ASGITransport(app=app.state.admin)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client, \
            httpx.AsyncClient(transport=admin, base_url="http://gateway-admin") as admin_client:
        response = await client.post(path, content=b"{}")
        schema = (await admin_client.get("/openapi.json")).json()
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert publisher.records == []
    assert not any(p.startswith("/bench") for p in schema["paths"])


async def test_the_webhook_contract_is_in_the_openapi_schema(admin_client):
    response = await admin_client.get("/openapi.json")
    operation = response.json()["paths"]["/webhooks/{provider}"]["post"]
    assert {"200", "400", "413", "415", "503"} <= set(operation["responses"])


def test_only_the_intake_serves_webhooks(settings, publisher):
    # One webhook endpoint: the documented route is never mounted on FastAPI's router.
    from gateway.app import create_app

    app = create_app(settings, publisher=publisher)
    assert not [r for r in app.routes if getattr(r, "path", "").startswith("/webhooks")]


async def test_acceptance_logs_at_debug_and_refusals_at_info(client, publisher, caplog):
    caplog.set_level("INFO", logger="gateway.webhooks")
    body = fixture("charge.refund.updated")
    assert (await client.post(URL, content=body, headers=signed(body))).status_code == 200
    assert [r for r in caplog.records if r.name == "gateway.webhooks"] == []
    bad = {**JSON, "stripe-signature": "t=1,v1=00"}
    assert (await client.post(URL, content=body, headers=bad)).status_code == 400
    (record,) = [r for r in caplog.records if r.name == "gateway.webhooks"]
    assert (record.levelname, record.reason) == ("INFO", "signature_mismatch")
