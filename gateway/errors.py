"""Errors named by what the caller must do; the routes turn each into one HTTP answer.

``WebhookRejectedError`` and its kin mean "the sender must fix the request": a 4xx whose
``reason`` is a stable code for dashboards and whose ``detail`` is safe to show (it never
holds secret material). ``InvalidEventError`` means "authentic but unusable": dead-letter
it and acknowledge. ``PublishUnavailableError`` means "not stored, retry": a 503.
"""

from __future__ import annotations


class WebhookRejectedError(Exception):
    """A request the gateway refuses without writing anything."""

    status_code = 400

    def __init__(self, reason: str, detail: str, *, provider: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.provider = provider


class SignatureError(WebhookRejectedError):
    """The signature header is missing, malformed, wrong or stale."""


class MalformedBodyError(WebhookRejectedError):
    """The body is not UTF-8 JSON."""


class PayloadTooLargeError(WebhookRejectedError):
    status_code = 413


class UnsupportedMediaTypeError(WebhookRejectedError):
    status_code = 415


class UnknownProviderError(WebhookRejectedError):
    status_code = 404


class InvalidEventError(Exception):
    """An authentic event whose structure or type the gateway cannot route: dead-letter it."""

    def __init__(self, reason: str, detail: str, *, event_id: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.event_id = event_id


class PublishUnavailableError(Exception):
    """The broker did not acknowledge the write: nothing is promised, the sender retries."""

    def __init__(self, reason: str, detail: str, *, topic: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.topic = topic
