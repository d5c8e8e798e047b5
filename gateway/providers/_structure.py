"""Structure checks shared by the JSON providers: not JSON is a 400, a bad shape a DLQ."""

from __future__ import annotations

from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from gateway.errors import InvalidEventError, MalformedBodyError

M = TypeVar("M", bound=BaseModel)


def parse_json_event(model: type[M], raw: bytes, *, provider: str, id_field: str) -> M:
    """Validate an authentic body's structure against `model`."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if any(error["type"] == "json_invalid" for error in errors):
            raise MalformedBodyError("body_not_json", "body is not valid JSON",
                                     provider=provider) from None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
            for error in errors[:5]
        )
        raise InvalidEventError("invalid_structure", problems,
                                event_id=best_effort_event_id(raw, id_field)) from None


def best_effort_event_id(raw: bytes, id_field: str) -> str | None:
    """The event's id if the body has a usable one, so a dead letter keeps its key."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    event_id = body.get(id_field) if isinstance(body, dict) else None
    return event_id if isinstance(event_id, str) and 0 < len(event_id) <= 255 else None


def route_by_prefix(routes: tuple[tuple[str, str], ...], event_type: str) -> str | None:
    """The topic of the first (prefix, topic) pair the event type starts with, or None."""
    for prefix, topic in routes:
        if event_type.startswith(prefix):
            return topic
    return None
