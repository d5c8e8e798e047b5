"""The webhook hot path, `POST /webhooks/{provider}`, as a plain ASGI layer.

It runs in front of FastAPI's router: the intake needs none of its dependency solving or
response models, and skipping them roughly halves the framework cost per webhook (see
bench/gateway.py). Every outcome is still one JSON answer: 2xx only after Kafka's ack,
4xx for bad input, 503 when nothing was stored.

A provider may answer several events per request (Adyen's batches): every authentic item
is written (routable ones to their topic, the rest to webhooks.dlq) before the one 2xx, an
item that fails its own signature is counted and logged but never written, and a failed
write answers 503 for the whole request, whose retry the normalizer's dedup absorbs.

Every record fits the budget of ``contracts.limits`` (``gateway.records``): the body
limit is at most ``MAX_VALUE_BYTES``, and an id or event type too long for a key or a
header turns its event into a dead letter keyed by the request.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import orjson
from prometheus_client import Counter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.dead_letters import gateway_dead_letter_headers, gateway_dead_letter_key
from contracts.limits import ISSUE_MESSAGE_MAX_CHARS
from contracts.topics import WEBHOOKS_DLQ
from gateway.errors import (
    InvalidEventError,
    PayloadTooLargeError,
    PublishUnavailableError,
    SignatureError,
    UnknownProviderError,
    UnsupportedMediaTypeError,
    WebhookRejectedError,
)
from gateway.metrics import Metrics
from gateway.providers import (
    InvalidItem,
    Outcome,
    Provider,
    VerifiedEvent,
    acknowledgement_of,
    media_type_of,
)
from gateway.publisher import Publisher
from gateway.records import raw_headers, within_budget
from telemetry import bind_event_id, current_request_id

log = logging.getLogger("gateway.webhooks")
PREFIX = "/webhooks/"
BENCH_PATH = "/bench/bare"
_JSON_HEADERS = [(b"content-type", b"application/json")]
_RETRY_HEADERS = [*_JSON_HEADERS, (b"retry-after", b"1")]


class ClientGoneError(Exception):
    """The client disconnected before the body was complete."""


class WebhookIntake:
    """Verify a provider's webhook and answer 2xx only once Kafka has acknowledged it."""

    def __init__(self, app: ASGIApp, *, providers: dict[str, Provider], publisher: Publisher,
                 metrics: Metrics, max_body_bytes: int, bench_endpoint: bool = False) -> None:
        self.app = app
        self.providers = providers
        self.publisher = publisher
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.bench_endpoint = bench_endpoint
        # Per item, not per request, so it lives beside the request counter in Metrics'
        # registry; a batch's request outcome alone would hide a refused sibling.
        self.items = Counter("gateway_webhook_items",
                             "Items of batched webhooks (Adyen) by provider and outcome "
                             "(accepted, dead_lettered, or the refusal reason).",
                             ["provider", "outcome"], registry=metrics.registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            post = scope["method"] == "POST"
            if path.startswith(PREFIX) and path.count("/") == 2:
                if post:
                    await self.receive_webhook(path[len(PREFIX):], scope, receive, send)
                else:
                    await respond(send, 405, error_body("rejected", "method_not_allowed",
                                                        "webhooks are POSTed"),
                                  [*_JSON_HEADERS, (b"allow", b"POST")])
                return
            if post and self.bench_endpoint and path == BENCH_PATH:
                await respond(send, 200, {"status": "ok"})
                return
        await self.app(scope, receive, send)

    async def receive_webhook(self, provider_name: str, scope: Scope, receive: Receive,
                              send: Send) -> None:
        provider = self.providers.get(provider_name)
        if provider is None:
            exc = UnknownProviderError("unknown_provider", f"no provider named {provider_name!r}")
            await respond(send, exc.status_code, error_body("rejected", exc.reason, exc.detail))
            return
        started = time.perf_counter()
        outcome = "internal_error"
        try:
            status, body = await self.accept(provider, provider_name, scope, receive)
            outcome = body["status"]
            acknowledgement = acknowledgement_of(provider)
            if acknowledgement is None:
                await respond(send, status, body)
            else:
                content_type, payload = acknowledgement
                await respond_bytes(send, status, payload, content_type.encode())
        except WebhookRejectedError as exc:
            outcome = exc.reason
            log.info("webhook rejected", extra={"reason": exc.reason, "detail": exc.detail})
            await respond(send, exc.status_code, error_body("rejected", exc.reason, exc.detail),
                          [*_JSON_HEADERS, *getattr(exc, "response_headers", ())])
        except PublishUnavailableError as exc:
            outcome = "unavailable"
            log.warning("webhook not stored", extra={"reason": exc.reason, "detail": exc.detail})
            await respond(send, 503, error_body("unavailable", exc.reason, exc.detail),
                          _RETRY_HEADERS)
        except ClientGoneError:
            outcome = "client_disconnected"
        except Exception:
            # A bug must not become a 500 that the sender treats as final: nothing was
            # promised, so answer the retryable 503 and leave the traceback in the log.
            log.exception("webhook failed unexpectedly")
            await respond(send, 503, error_body("unavailable", outcome, "internal error"),
                          _RETRY_HEADERS)
        finally:
            self.metrics.count_webhook(provider_name, outcome, time.perf_counter() - started)

    async def accept(self, provider: Provider, provider_name: str, scope: Scope,
                     receive: Receive) -> tuple[int, dict]:
        headers = Headers(scope=scope)
        check_content_type(headers, media_type_of(provider))
        raw = await read_body(headers, receive, self.max_body_bytes)
        received_at = now_rfc3339()
        request_id = current_request_id() or ""
        try:
            outcomes = provider.verify(raw, headers)
        except InvalidEventError as exc:
            outcomes = (InvalidItem(exc.reason, exc.detail, exc.event_id, raw),)
        outcomes = tuple(within_budget(outcome) for outcome in outcomes)
        for outcome in outcomes:
            if isinstance(outcome, VerifiedEvent):
                await self.publish_event(provider_name, outcome, request_id, received_at)
            elif isinstance(outcome, InvalidItem):
                await self.dead_letter(provider_name, outcome, request_id, received_at)
        # Counted and logged once every write is acknowledged: a 503 retry would count
        # them twice. One log line per request, however many items it carried.
        if len(outcomes) > 1:
            for outcome in outcomes:
                self.items.labels(provider_name, item_outcome(outcome)).inc()
        log_outcomes(outcomes)
        first = next((o for o in outcomes if isinstance(o, VerifiedEvent)), None)
        if first is not None:
            return 200, {"status": "accepted", "event_id": first.event_id}
        dead = next((o for o in outcomes if isinstance(o, InvalidItem)), None)
        if dead is None:
            # A provider that finds nothing authentic should have raised; refuse anyway.
            raise SignatureError("signature_mismatch", "no authentic event in the request",
                                 provider=provider_name)
        return 200, {"status": "dead_lettered", "event_id": dead.event_id,
                     "reason": dead.reason}

    async def publish_event(self, provider: str, event: VerifiedEvent, request_id: str,
                            received_at: str) -> None:
        bind_event_id(event.event_id)
        await self.publisher.publish(event.topic, event.event_id.encode(), event.value,
                                     raw_headers(provider, event.event_type, received_at,
                                                 request_id))
        # DEBUG, not INFO: a JSON line costs ~20 µs, a tenth of a webhook's CPU, and the
        # Kafka record already carries the request id, the event id (key) and received_at;
        # counts live in gateway_webhooks. Rejections and 503s still log at INFO/WARNING.
        log.debug("webhook accepted", extra={"topic": event.topic,
                                             "event_type": event.event_type})

    async def dead_letter(self, provider: str, item: InvalidItem, request_id: str,
                          received_at: str) -> None:
        """Write an authentic but unusable event to webhooks.dlq.

        The value is the refused body exactly as received (Adyen: the item's compact JSON,
        as its raw topic would hold it), so it fits the same budget as a raw record and a
        reviewer or a re-drive reads the same bytes; why it was refused travels in the
        headers of the envelope in ``contracts.dead_letters``.
        """
        bind_event_id(item.event_id)
        await self.publisher.publish(
            WEBHOOKS_DLQ, gateway_dead_letter_key(item.event_id, request_id), item.value,
            gateway_dead_letter_headers(provider=provider, reason=item.reason,
                                        detail=item.detail, event_id=item.event_id,
                                        received_at=received_at, request_id=request_id))


def item_outcome(outcome: Outcome) -> str:
    if isinstance(outcome, VerifiedEvent):
        return "accepted"
    return "dead_lettered" if isinstance(outcome, InvalidItem) else outcome.reason


def log_outcomes(outcomes: tuple[Outcome, ...]) -> None:
    """One WARNING per request that dead-lettered or refused anything, with counts by reason
    and the first detail of each: 5,000 forged items are one line, not 5,000."""
    counts: dict[str, int] = {}
    details: dict[str, str] = {}
    for outcome in outcomes:
        reason = "accepted" if isinstance(outcome, VerifiedEvent) else outcome.reason
        counts[reason] = counts.get(reason, 0) + 1
        if reason != "accepted":
            details.setdefault(reason, outcome.detail[:ISSUE_MESSAGE_MAX_CHARS])
    if not details:
        return
    message = "webhook dead-lettered" if len(outcomes) == 1 else "webhook items not accepted"
    if len(outcomes) > 1:
        bind_event_id(None)  # the line speaks for the whole batch, not its last item
    log.warning(message, extra={"reason": next(iter(details)), "counts": counts,
                                "details": details})


def error_body(error: str, reason: str, detail: str) -> dict:
    return {"error": error, "reason": reason, "detail": detail,
            "request_id": current_request_id()}


async def respond(send: Send, status: int, body: dict, headers=_JSON_HEADERS) -> None:
    payload = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


async def respond_bytes(send: Send, status: int, payload: bytes, content_type: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def check_content_type(headers: Headers, expected: str = "application/json") -> None:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != expected:
        raise UnsupportedMediaTypeError(
            "unsupported_media_type", f"content type must be {expected}, got {media_type!r}"
        )


async def read_body(headers: Headers, receive: Receive, limit: int) -> bytes:
    """Read the body with a running count, so a lying or absent Content-Length can't help."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError("body_too_large", f"body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError("body_too_large", f"body exceeds {limit} bytes")
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
