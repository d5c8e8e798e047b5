"""Stripe: list events through the official SDK, and render each as its webhook's body.

``GET /v1/events`` with ``created[gte]``/``created[lte]`` and the SDK's auto-paging (100 per
page, ``starting_after`` the last id, the window carried on every page). Stripe keeps events
for 30 days, so a window older than that lists nothing.

The body: Stripe's API gives the event object, not the bytes of the webhook it sent. Stripe
renders both with the same JSON style (2-space indent, ``": "``, an empty object as
``{`` newline ``}`` and an empty list as ``[`` blank line ``]``, keys in the API's order, no
trailing newline), so rendering the listed object that way gives back the webhook's body
byte for byte (tests/unit/orchestration/reconciliation: every Stripe-rendered fixture in
shared/fixtures/stripe). The SDK keeps the response's key order, which the rendering needs.
What stays different from a webhook: ``pending_webhooks`` is the count at listing time, and
``data.object`` is rendered in the API version the client asks for (``STRIPE_API_VERSION``,
which should be the webhook endpoint's version), not necessarily the endpoint's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import stripe

from contracts.providers import Provider
from orchestration.reconciliation.events import ProviderEvent, Window

__all__ = ["PAGE_SIZE", "StripeEventSource", "event_from_stripe", "render_stripe_json",
           "window_params"]

PROVIDER = Provider.STRIPE.value
PAGE_SIZE = 100  # Stripe's largest page


def render_stripe_json(value: Any) -> bytes:
    """``value`` as Stripe's API renders JSON (a webhook's body is rendered so)."""
    return _render(value, 0).encode()


def _render(value: Any, depth: int) -> str:
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict):
        if not value:
            return "{\n" + outer + "}"
        items = ",\n".join(f"{inner}{json.dumps(key, ensure_ascii=False)}: "
                           f"{_render(item, depth + 1)}" for key, item in value.items())
        return "{\n" + items + "\n" + outer + "}"
    if isinstance(value, list):
        if not value:
            return "[\n\n" + outer + "]"
        items = ",\n".join(inner + _render(item, depth + 1) for item in value)
        return "[\n" + items + "\n" + outer + "]"
    return json.dumps(value, ensure_ascii=False)


def event_from_stripe(event: dict[str, Any]) -> ProviderEvent:
    """A listed Stripe event (a ``stripe.Event`` or its plain dict) as a ProviderEvent."""
    # for_json: a decimal-string field comes back as the string the API sent, not a Decimal.
    data = event.to_dict(for_json=True) if isinstance(event, stripe.StripeObject) else event
    for name, kind in (("id", str), ("type", str), ("created", int)):
        if not isinstance(data.get(name), kind):
            raise ValueError(f"a listed Stripe event has no usable {name!r}: {data.get(name)!r}")
    return ProviderEvent(PROVIDER, data["id"], data["type"],
                         ProviderEvent.created_at(data["created"]), render_stripe_json(data))


def window_params(window: Window) -> dict[str, Any]:
    """``created`` bounds in whole seconds that cover the window (Stripe's are inclusive)."""
    since = int(window.since.timestamp())
    until = int(window.until.timestamp())
    return {"created": {"gte": since, "lte": until}, "limit": PAGE_SIZE}


class StripeEventSource:
    """Stripe's events over a window, every page, through a ``stripe.StripeClient``."""

    provider = PROVIDER

    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    @classmethod
    def connect(cls, api_key: str, api_base: str | None = None,
                api_version: str | None = None) -> StripeEventSource:
        base = {"api": api_base} if api_base else None
        # The SDK retries connection errors, 409s and 5xx (and honours Stripe-Should-Retry).
        return cls(stripe.StripeClient(api_key, base_addresses=base, stripe_version=api_version,
                                       max_network_retries=3))

    async def list_events(self, window: Window) -> AsyncIterator[ProviderEvent]:
        page = await self._client.v1.events.list_async(params=window_params(window))
        async for event in page.auto_paging_iter():
            yield event_from_stripe(event)
