"""`python -m orchestration.codec_server`: Temporal's remote codec endpoint, for the Temporal UI.

Histories hold encrypted payloads (encryption/), so the UI shows ciphertext until it is
pointed at a codec endpoint that holds the key. This is that endpoint, for an operator
who holds the key, on the operator's own machine: it speaks Temporal's remote codec
protocol,

    POST /decode   {"payloads": [{"metadata": {...}, "data": "<base64>"}, ...]}  -> same shape
    POST /encode   the same, the other way (the UI encodes what it sends: signals, starts)

with CORS for the UI's origin, and it binds 127.0.0.1:8089 by default. Point the UI at it
with ``temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8089`` (the local
stack passes it) or, per browser, in the UI's "Codec Server" setting.

It decrypts for any caller that can reach it: run it on loopback, only while needed.

Settings: the codec's (``TEMPORAL_CODEC_KEYS``, ``TEMPORAL_CODEC_KEY_ID``), plus
``TEMPORAL_CODEC_SERVER_HOST`` (127.0.0.1), ``TEMPORAL_CODEC_SERVER_PORT`` (8089) and
``TEMPORAL_CODEC_SERVER_ORIGINS`` (comma-separated, default the local UI's two spellings).
A bad one stops it with exit 2, naming the setting.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Sequence

import uvicorn
from google.protobuf import json_format
from pydantic import Field, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads

from encryption import CodecSettings, EncryptionCodec, PayloadDecryptionError, invalid_settings
from telemetry import configure_logging
from telemetry.asgi import RequestIdMiddleware

log = logging.getLogger("orchestration.codec_server")

DEFAULT_PORT = 8089
PORT_SETTING = "TEMPORAL_CODEC_SERVER_PORT"
# Temporal refuses a payload over 2 MiB; the UI sends one event's payloads at a time, and
# JSON's base64 adds a third. Anything larger is not a request from the UI.
MAX_BODY_BYTES = 8 * 1024 * 1024
# The UI forwards the namespace, and its access token when it is configured to.
ALLOWED_HEADERS = ("Content-Type", "X-Namespace", "Authorization")

Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


class CodecServerSettings(CodecSettings):
    TEMPORAL_CODEC_SERVER_HOST: str = "127.0.0.1"
    TEMPORAL_CODEC_SERVER_PORT: int = Field(DEFAULT_PORT, ge=1, le=65535)
    TEMPORAL_CODEC_SERVER_ORIGINS: str = "http://127.0.0.1:8233,http://localhost:8233"

    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.TEMPORAL_CODEC_SERVER_ORIGINS.split(",")
                if o.strip()]


def _refusal(status: int, reason: str, detail: str, **extra: str) -> JSONResponse:
    # A reason code and a plain sentence; never an exception class, never payload data.
    return JSONResponse({"reason": reason, "detail": detail, **extra}, status_code=status)


async def _read_body(request: Request) -> bytes | None:
    """The body, or None once it passes MAX_BODY_BYTES (read no further)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


async def _transform(request: Request, transform: Transform) -> Response:
    body = await _read_body(request)
    if body is None:
        return _refusal(413, "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        payloads = json_format.Parse(body, Payloads())
    except (json_format.ParseError, UnicodeDecodeError, ValueError):
        return _refusal(400, "invalid_payloads",
                        'expected {"payloads": [{"metadata": {...}, "data": "<base64>"}]}')
    try:
        result = await transform(list(payloads.payloads))
    except PayloadDecryptionError as err:
        log.warning("codec request refused: %s (key id %r)", err.reason, err.key_id)
        return _refusal(422, err.reason, str(err), key_id=err.key_id)
    return Response(json_format.MessageToJson(Payloads(payloads=result), indent=None),
                    media_type="application/json")


def create_app(codec: EncryptionCodec, origins: Sequence[str]) -> Starlette:
    """The codec endpoint: /encode, /decode and /health, CORS for the UI's origins."""

    async def post_encode(request: Request) -> Response:
        """Encrypt payloads under the current key."""
        return await _transform(request, codec.encode)

    async def post_decode(request: Request) -> Response:
        """Decrypt payloads under whichever key of the ring each names."""
        return await _transform(request, codec.decode)

    async def get_health(request: Request) -> Response:
        """Liveness: the server is up and holds a key ring."""
        return JSONResponse({"status": "ok", "current_key_id": codec.current_key_id})

    return Starlette(
        routes=[Route("/encode", post_encode, methods=["POST"]),
                Route("/decode", post_decode, methods=["POST"]),
                Route("/health", get_health, methods=["GET"])],
        middleware=[
            Middleware(CORSMiddleware, allow_origins=list(origins), allow_methods=["POST"],
                       allow_headers=list(ALLOWED_HEADERS), allow_credentials=True),
            Middleware(RequestIdMiddleware),
        ],
    )


def main() -> int:
    try:
        settings = CodecServerSettings()
    except ValidationError as err:
        print(f"orchestration.codec_server: invalid configuration: {invalid_settings(err)}\n"
              f"{err}", file=sys.stderr)
        return 2
    configure_logging("codec-server")
    app = create_app(settings.codec(), settings.origins())
    log.info("codec endpoint on http://%s:%s for %s", settings.TEMPORAL_CODEC_SERVER_HOST,
             settings.TEMPORAL_CODEC_SERVER_PORT, ", ".join(settings.origins()))
    uvicorn.run(app, host=settings.TEMPORAL_CODEC_SERVER_HOST,
                port=settings.TEMPORAL_CODEC_SERVER_PORT, log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
