from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference.app import create_app
from inference.models import churn, fraud, recovery, retry

SETTINGS = settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

CURRENCIES = ["USD", "EUR", "GBP", "JPY", "KRW", "INR", "BRL", "CHF", "XTS"]
CODES = [
    "insufficient_funds",
    "card_declined",
    "generic_decline",
    "expired_card",
    "incorrect_cvc",
    "processing_error",
    "do_not_honor",
    "fraudulent",
    "lost_card",
    "stolen_card",
    "authentication_required",
    "try_again_later",
]

ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
amounts = st.integers(0, 100_000_000)
codes = st.sampled_from(CODES) | st.text(min_size=1, max_size=64)


@st.composite
def churn_bodies(draw: st.DrawFn) -> dict[str, Any]:
    failed = draw(st.integers(0, 1_000_000))
    return {
        "customer_id": draw(ids),
        "successful_payments": draw(st.integers(0, 1_000_000)),
        "failed_payments": failed,
        "consecutive_failures": draw(st.integers(0, failed)),
        "days_since_last_success": draw(st.none() | st.integers(0, 36_500)),
        "total_amount_cents": draw(st.integers(0, 1_000_000_000_000)),
    }


fraud_bodies = st.fixed_dictionaries(
    {"event_id": ids, "amount_cents": amounts, "currency": st.sampled_from(CURRENCIES)},
    optional={
        "card_brand": st.none() | st.sampled_from(["visa", "amex", "Mastercard", "odd"]),
        "payment_method_type": st.none() | st.sampled_from(["card", "sepa_debit", "klarna", "x"]),
        "customer_id": st.none() | ids,
        "merchant_id": st.none() | ids,
        "customer_history": st.none() | churn_bodies(),
    },
)


@st.composite
def money(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"amount_cents": draw(amounts), "currency": draw(st.sampled_from(CURRENCIES))}
    return {}


@st.composite
def retry_bodies(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "event_id": draw(ids),
        "failure_code": draw(codes),
        "attempt_count": draw(st.integers(1, 100)),
        **draw(money()),
    }


@st.composite
def recovery_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body = {
        "event_id": draw(ids),
        "failure_code": draw(codes),
        "attempt_number": draw(st.integers(1, 100)),
        **draw(money()),
    }
    if draw(st.booleans()):
        body["customer_id"] = draw(ids)
    return body


async def post_ok(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


@SETTINGS
@given(body=fraud_bodies)
async def test_fraud_score_in_range(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    out = await post_ok(client, "/fraud/score", body)
    assert 0.0 <= out["fraud_score"] <= 1.0
    assert out["risk_level"] in ("low", "medium", "high")
    assert all(isinstance(f, str) for f in out["risk_factors"])
    assert out["model_version"] == fraud.MODEL_VERSION


@SETTINGS
@given(body=retry_bodies())
async def test_retry_strategy_in_range(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    out = await post_ok(client, "/retry/strategy", body)
    assert out["action"] in ("retry_now", "retry_later", "contact_customer", "do_not_retry")
    assert 0.0 <= out["confidence"] <= 1.0
    assert out["delay_seconds"] >= 0 and out["max_attempts"] >= 1 and out["reason"]
    assert out["model_version"] == retry.MODEL_VERSION


@SETTINGS
@given(body=churn_bodies())
async def test_churn_prediction_in_range(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    out = await post_ok(client, "/churn/predict", body)
    assert 0.0 <= out["churn_probability"] <= 1.0
    assert out["risk_level"] in ("low", "medium", "high", "critical")
    assert out["days_to_churn_estimate"] >= 0 and out["actions"]
    assert out["model_version"] == churn.MODEL_VERSION


@SETTINGS
@given(body=recovery_bodies())
async def test_recovery_plan_in_range(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    out = await post_ok(client, "/recovery/recommend", body)
    assert 0.0 <= out["expected_recovery_probability"] <= 1.0
    assert out["steps"]
    for step in out["steps"]:
        assert step["action"] and step["channel"] and step["delay_seconds"] >= 0
    assert out["model_version"] == recovery.MODEL_VERSION


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = {
    "/fraud/score": ["event_id", "amount_cents", "currency", "card_brand", "customer_history"],
    "/retry/strategy": ["event_id", "failure_code", "attempt_count", "amount_cents", "currency"],
    "/churn/predict": [
        "customer_id",
        "successful_payments",
        "failed_payments",
        "consecutive_failures",
        "days_since_last_success",
        "total_amount_cents",
    ],
    "/recovery/recommend": ["event_id", "failure_code", "attempt_number", "amount_cents"],
}


@SETTINGS
@given(data=st.data())
async def test_arbitrary_json_never_errors(client: httpx.AsyncClient, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(sorted(FIELDS)))
    body = data.draw(st.dictionaries(st.sampled_from(FIELDS[path]), json_values) | json_values)
    response = await client.post(path, json=body)
    assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"NaN", b'{"amount_cents": Infinity}', b"[1, 2]", b'{"a": 1e999}']
)
@pytest.mark.parametrize("path", sorted(FIELDS))
async def test_malformed_bodies_are_rejected(
    client: httpx.AsyncClient, path: str, raw: bytes
) -> None:
    response = await client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422


VALID = {
    "/fraud/score": {"event_id": "stripe:evt_1", "amount_cents": 1_000, "currency": "USD"},
    "/retry/strategy": {
        "event_id": "stripe:evt_1",
        "failure_code": "card_declined",
        "attempt_count": 1,
    },
    "/churn/predict": {
        "customer_id": "cus_1",
        "successful_payments": 1,
        "failed_payments": 1,
        "consecutive_failures": 1,
        "days_since_last_success": None,
        "total_amount_cents": 1_000,
    },
    "/recovery/recommend": {
        "event_id": "stripe:evt_1",
        "failure_code": "card_declined",
        "attempt_number": 7,
    },
}


@pytest.mark.parametrize(
    ("path", "overrides", "field"),
    [
        ("/fraud/score", {"amount_cents": -1}, "amount_cents"),
        ("/fraud/score", {"amount_cents": 100_000_001}, "amount_cents"),
        ("/fraud/score", {"amount_cents": "1000"}, "amount_cents"),
        ("/fraud/score", {"amount_cents": 10.5}, "amount_cents"),
        ("/fraud/score", {"currency": "usd"}, "currency"),
        ("/fraud/score", {"currency": "USDT"}, "currency"),
        ("/fraud/score", {"event_id": ""}, "event_id"),
        ("/fraud/score", {"customer_history": {"customer_id": "c"}}, "customer_history"),
        ("/retry/strategy", {"attempt_count": 0}, "attempt_count"),
        ("/retry/strategy", {"attempt_count": 101}, "attempt_count"),
        ("/retry/strategy", {"attempt_count": True}, "attempt_count"),
        ("/retry/strategy", {"failure_code": "x" * 65}, "failure_code"),
        ("/retry/strategy", {"amount_cents": 500}, None),
        ("/churn/predict", {"successful_payments": -1}, "successful_payments"),
        ("/churn/predict", {"consecutive_failures": 2}, None),
        ("/churn/predict", {"days_since_last_success": -3}, "days_since_last_success"),
        ("/recovery/recommend", {"attempt_number": 101}, "attempt_number"),
        ("/recovery/recommend", {"currency": "EUR"}, None),
    ],
)
async def test_invalid_input_is_rejected_with_details(
    client: httpx.AsyncClient, path: str, overrides: dict[str, Any], field: str | None
) -> None:
    response = await client.post(path, json={**VALID[path], **overrides})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail and all("msg" in d and "loc" in d for d in detail)
    if field is not None:
        assert any(field in d["loc"] for d in detail)


@pytest.mark.parametrize("path", sorted(VALID))
async def test_missing_required_field_is_rejected(client: httpx.AsyncClient, path: str) -> None:
    body = dict(VALID[path])
    first = next(iter(body))
    del body[first]
    response = await client.post(path, json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"


async def test_health_ready_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json()["status"] == "ok"
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["model_versions"]["fraud"]
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(VALID) <= set(paths)
    assert (await client.get("/docs")).status_code == 200


async def test_not_ready_before_startup() -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://inference") as c:
        assert (await c.get("/ready")).status_code == 503
        assert (await c.get("/health")).status_code == 200


async def test_request_id_is_echoed_or_minted(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "req-123"})
    assert echoed.headers["x-request-id"] == "req-123"
    minted = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert minted.headers["x-request-id"] not in ("", "bad id\twith spaces")
    assert len((await client.get("/health")).headers["x-request-id"]) == 32


async def test_metrics_count_requests_by_endpoint_and_outcome(client: httpx.AsyncClient) -> None:
    await client.post("/fraud/score", json=VALID["/fraud/score"])
    await client.post("/fraud/score", json={})
    await client.get("/no/such/path")
    text = (await client.get("/metrics")).text
    assert 'inference_requests_total{endpoint="/fraud/score",outcome="success"}' in text
    assert 'inference_requests_total{endpoint="/fraud/score",outcome="invalid"}' in text
    assert 'endpoint="unmatched",outcome="client_error"' in text
    assert 'inference_request_duration_seconds_bucket{endpoint="/fraud/score"' in text
    assert "inference_model_info{" in text
