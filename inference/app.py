"""The inference HTTP service: `uvicorn inference.app:app` (port 8002 by default)."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from inference.metrics import Metrics, MetricsMiddleware
from inference.models import churn, fraud, recovery, retry
from inference.schemas import (
    ChurnPredictRequest,
    ChurnPredictResponse,
    FraudScoreRequest,
    FraudScoreResponse,
    HealthResponse,
    RecoveryRecommendRequest,
    RecoveryRecommendResponse,
    RetryStrategyRequest,
    RetryStrategyResponse,
)
from inference.settings import InferenceSettings
from telemetry import configure_logging
from telemetry.asgi import RequestIdMiddleware

MODEL_VERSIONS = {
    "fraud": fraud.MODEL_VERSION,
    "retry": retry.MODEL_VERSION,
    "churn": churn.MODEL_VERSION,
    "recovery": recovery.MODEL_VERSION,
}

router = APIRouter()


@router.post("/fraud/score", response_model=FraudScoreResponse, tags=["fraud"])
async def score_fraud(body: FraudScoreRequest) -> FraudScoreResponse:
    """Score one payment's fraud risk."""
    result = fraud.score_fraud(body.to_input())
    return FraudScoreResponse.model_validate(result)


@router.post("/retry/strategy", response_model=RetryStrategyResponse, tags=["retry"])
async def get_retry_strategy(body: RetryStrategyRequest) -> RetryStrategyResponse:
    """Decide whether and when to retry a failed payment."""
    result = retry.choose_retry_strategy(body.to_input())
    return RetryStrategyResponse.model_validate(result)


@router.post("/churn/predict", response_model=ChurnPredictResponse, tags=["churn"])
async def predict_churn(body: ChurnPredictRequest) -> ChurnPredictResponse:
    """Predict a customer's churn risk from their payment history."""
    result = churn.predict_churn(body.to_input())
    return ChurnPredictResponse.model_validate(result)


@router.post("/recovery/recommend", response_model=RecoveryRecommendResponse, tags=["recovery"])
async def recommend_recovery(body: RecoveryRecommendRequest) -> RecoveryRecommendResponse:
    """Plan the steps to recover a failed payment."""
    result = recovery.recommend_recovery(body.to_input())
    return RecoveryRecommendResponse.model_validate(result)


@router.get("/health", response_model=HealthResponse, tags=["ops"])
async def get_health() -> HealthResponse:
    """Liveness: the process is up and serving."""
    return HealthResponse(status="ok", model_versions=MODEL_VERSIONS)


@router.get("/ready", response_model=HealthResponse, tags=["ops"])
async def get_ready(request: Request, response: Response) -> HealthResponse:
    """Readiness: the models passed their startup check and shutdown has not begun."""
    if request.app.state.ready:
        return HealthResponse(status="ready", model_versions=MODEL_VERSIONS)
    response.status_code = 503
    return HealthResponse(status="not_ready", model_versions=MODEL_VERSIONS)


@router.get("/metrics", include_in_schema=False)
async def get_metrics(request: Request) -> Response:
    """Prometheus exposition of the service's metrics."""
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def reject_invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with pydantic's error details, the way FastAPI reports them by default."""
    # Python's JSON parser accepts NaN and Infinity; echoed back as they are, they made the
    # default handler's strict JSON encoding fail, turning a 422 into a 500.
    detail = _finite(jsonable_encoder(exc.errors()))
    return JSONResponse(status_code=422, content={"detail": detail})


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value


def check_models() -> None:
    """Run each model once on a fixed input, so that a broken model fails startup."""
    history = churn.ChurnInput("cus_check", 3, 1, 0, 5, 12_000)
    fraud.score_fraud(fraud.FraudInput(5_000, "USD", "visa", "card", "cus_check", None, history))
    retry.choose_retry_strategy(retry.RetryInput("insufficient_funds", 1, 5_000, "USD"))
    churn.predict_churn(history)
    recovery.recommend_recovery(recovery.RecoveryInput("card_declined", 1, 5_000, "USD"))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    check_models()
    app.state.ready = True
    yield
    # Report not-ready while uvicorn drains in-flight requests.
    app.state.ready = False


def create_app(settings: InferenceSettings | None = None) -> FastAPI:
    """Build the app; tests call this for a fresh app with its own metrics registry."""
    settings = settings or InferenceSettings()
    configure_logging("inference", settings.LOG_LEVEL)
    # Our access line (in MetricsMiddleware) carries the request id; uvicorn's does not.
    logging.getLogger("uvicorn.access").disabled = True
    metrics = Metrics(MODEL_VERSIONS)
    app = FastAPI(
        title="Payment inference",
        version="1.0.0",
        summary="Deterministic fraud, retry, churn and recovery models.",
        lifespan=lifespan,
    )
    app.state.ready = False
    app.state.metrics = metrics
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, reject_invalid_request)
    # Added last so it runs first: metrics and access logs then share the request id.
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    return app


app = create_app()
