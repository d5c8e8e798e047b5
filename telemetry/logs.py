"""JSON logs that carry the request id and event id of whatever is being handled.

The ids live in context variables, so every log line emitted while handling one request
or one event carries them without threading them through each call.
"""

from __future__ import annotations

import logging
import sys
import uuid
from contextvars import ContextVar, Token

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_event_id: ContextVar[str | None] = ContextVar("event_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token:
    return _request_id.set(request_id)


def bind_event_id(event_id: str | None) -> Token:
    return _event_id.set(event_id)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = getattr(record, "request_id", None) or _request_id.get()
        record.event_id = getattr(record, "event_id", None) or _event_id.get()
        return True


def configure_logging(service: str, level: str | int = "INFO") -> None:
    """Route the root logger to one JSON line per record on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s "
            "%(service)s %(request_id)s %(event_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            # uvicorn adds an ANSI-coloured copy of each message; it only clutters JSON.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
            timestamp=False,
        )
    )
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn installs plain-text handlers before it imports the app; ours replace them.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
