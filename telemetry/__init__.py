"""Operability shared by every service: structured JSON logs with request and event ids."""

from telemetry.logs import (
    bind_event_id,
    bind_request_id,
    configure_logging,
    current_request_id,
    new_request_id,
)

__all__ = [
    "bind_event_id",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "new_request_id",
]
