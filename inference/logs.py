"""Structured JSON logs, each line tagged with the id of the request that caused it."""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# A caller's id is echoed into logs and headers, so only a plain token is trusted.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_HANDLER_NAME = "inference-json"
access_logger = logging.getLogger("inference.access")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str) -> None:
    """Send the service's and uvicorn's logs to stderr as one JSON object per line."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler()
        handler.set_name(_HANDLER_NAME)
        # uvicorn adds an ANSI-coloured copy of each message; it only clutters JSON.
        reserved = [*RESERVED_ATTRS, "color_message"]
        formatter = JsonFormatter(
            "%(levelname)s %(name)s %(message)s", timestamp=True, reserved_attrs=reserved
        )
        handler.setFormatter(formatter)
        handler.addFilter(_RequestIdFilter())
        root.addHandler(handler)
    # uvicorn installs plain-text handlers before importing the app; ours replace them,
    # and our access line (which carries the request id) replaces uvicorn's.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


class RequestIdMiddleware:
    """Adopt or mint a request id, echo it back, and log one access line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id_from(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            )
            request_id_var.reset(token)


def _request_id_from(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex
