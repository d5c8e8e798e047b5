"""ASGI middleware that gives every HTTP request an id for its logs and its response."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telemetry.logs import bind_event_id, bind_request_id, new_request_id

# A caller's id is echoed into logs and response headers, so only a plain token is adopted.
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


class RequestIdMiddleware:
    """Adopt the caller's X-Request-ID or mint one, bind it for logs, and echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and _SAFE_REQUEST_ID.fullmatch(value):
                request_id = value
                break
        if request_id is None:
            request_id = new_request_id().encode()
        bind_request_id(request_id.decode())
        bind_event_id(None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)
