"""Operability shared by every service: structured JSON logs with request and event ids."""

from telemetry.exits import exit_after_flush
from telemetry.logs import (
    bind_event_id,
    bind_request_id,
    configure_logging,
    current_request_id,
    new_request_id,
)

__all__ = [
    "exit_after_flush",
    "bind_event_id",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "new_request_id",
]
