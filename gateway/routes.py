"""HTTP routes for operability on the webhook port: liveness and readiness.

The webhook intake itself is the ASGI layer in ``gateway.intake``; docs and metrics are on
the admin port (``gateway.admin``).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

operations = APIRouter(tags=["ops"])


class ReadyBody(BaseModel):
    status: str
    reason: str | None = None


def json_response(content: dict, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code,
                    media_type="application/json")


@operations.get("/health", response_model=ReadyBody)
async def get_health() -> Response:
    """Liveness: the process is up and serving HTTP."""
    return json_response({"status": "ok"})


@operations.get("/ready", response_model=ReadyBody, responses={503: {"model": ReadyBody}})
async def get_ready(request: Request) -> Response:
    """Readiness: a recent metadata round trip to Kafka succeeded, no producer rebuild is under
    way, and shutdown hasn't begun."""
    state = request.app.state
    if not state.accepting:
        return json_response({"status": "not_ready", "reason": "shutting_down"}, 503)
    reason = await state.publisher.check_ready()
    if reason is not None:
        return json_response({"status": "not_ready", "reason": reason}, 503)
    return json_response({"status": "ready"})


class WebhookAnswer(BaseModel):
    status: str
    event_id: str | None = None
    reason: str | None = None


class WebhookError(BaseModel):
    error: str
    reason: str
    detail: str
    request_id: str | None = None


# Documentation only: never mounted (gateway.app.document_webhooks), so nothing but the
# intake ever answers a webhook.
webhooks_doc = APIRouter(tags=["webhooks"])


@webhooks_doc.post(
    "/webhooks/{provider}",
    response_model=WebhookAnswer,
    responses={
        400: {"model": WebhookError, "description": "signature, timestamp or body refused"},
        401: {"model": WebhookError, "description": "Basic auth failed (Adyen)"},
        404: {"model": WebhookError, "description": "provider not enabled"},
        413: {"model": WebhookError,
              "description": "body over the limit, too many items, or a record Kafka refuses"},
        415: {"model": WebhookError, "description": "wrong content type"},
        503: {"model": WebhookError, "description": "not stored: Kafka unavailable, retry"},
    },
)
async def receive_webhook(provider: str) -> Response:
    """Verify a provider's webhook and answer 2xx only once Kafka has acknowledged it.

    Served by the intake layer (gateway.intake); this entry only documents the contract.
    """
    raise NotImplementedError("documentation only: the intake serves webhooks")


# The framework's own bare answer, routed like any FastAPI endpoint (router, request
# object, response class). bench/gateway.py measures it beside the webhook path, which
# skips the router, and beside the intake's raw-ASGI bare answer; see GATEWAY_BENCH_ENDPOINT.
bench = APIRouter(include_in_schema=False)


@bench.post("/bench/bare-route")
async def post_bench_bare_route() -> dict:
    return {"status": "ok"}
