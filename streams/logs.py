"""JSON logs inside a faust worker."""

from __future__ import annotations

import logging
import sys

from telemetry import configure_logging


def use_json_logs(service: str, level: str) -> None:
    """telemetry's JSON handler, writing to the real stderr.

    The faust CLI swaps sys.stderr for a proxy that feeds the logging system, so a
    handler bound to it would write its lines back into logging and they would be lost.
    """
    configure_logging(service, level)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.__stderr__)
