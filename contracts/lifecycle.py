"""Payment lifecycles: what each normalized event type does to a payment's current state.

Written once here for every provider, so the store that keeps ``payments`` and anything that
checks it (the lake, tests) read the same rules. Pure data and two small functions; the fold
itself is ``contracts.payment_state.apply``.

A payment's status is a lattice: every event type has a ``rank`` and the status is that of
the event with the greatest (rank, provider time, event_id). Ranks only rise, so a status
never goes back (succeeded never returns to processing); events of one rank are ordered by
the provider's own timestamp, and the event id settles an exact tie. Arrival order never
counts. Statuses that a payment can cycle through while it is being paid (an attempt fails,
the customer tries again) share a rank, so the latest of them by the provider's clock wins.

Refunds and disputes are entries of their own (``effect``), keyed by the refund or dispute
they are about (``entry_key``). Each entry follows its own small lifecycle (``step``), and
its amount counts when its latest step ``counts``. Totals are sums over distinct entries, so
a second delivery of an event adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from contracts.events import EventType, PaymentEvent
from contracts.providers import Provider


class PaymentStatus(StrEnum):
    """A payment's normalized status, the ``payments.status`` column."""

    UNKNOWN = "unknown"  # only events that say nothing of the payment's own state so far
    CREATED = "created"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    AUTHORIZED = "authorized"
    FAILED = "failed"
    CANCELED = "canceled"
    SUCCEEDED = "succeeded"


class Effect(StrEnum):
    PAYMENT = "payment"  # moves the payment's status and names its amount
    REFUND = "refund"  # an entry of amount_refunded
    DISPUTE = "dispute"  # an entry of amount_disputed


@dataclass(frozen=True, slots=True)
class Transition:
    status: PaymentStatus
    rank: int
    effect: Effect = Effect.PAYMENT
    step: int = 0  # the rank within the refund's or dispute's own lifecycle
    counts: bool = False  # whether the entry's amount counts while this is its latest step


def _payment(status: PaymentStatus, rank: int) -> Transition:
    return Transition(status, rank)


# A refund or dispute is only ever opened on money that moved: it says the payment succeeded.
SUCCEEDED_RANK = 4


def _refund(step: int, counts: bool) -> Transition:
    return Transition(PaymentStatus.SUCCEEDED, SUCCEEDED_RANK, Effect.REFUND, step, counts)


def _dispute(step: int, counts: bool) -> Transition:
    return Transition(PaymentStatus.SUCCEEDED, SUCCEEDED_RANK, Effect.DISPUTE, step, counts)


S = PaymentStatus
E = EventType
# Stripe's lifecycle, and every provider's default. A PaymentIntent cycles through
# requires_action, processing and a failed attempt (it returns to requires_payment_method)
# until it succeeds or is canceled, so those share rank 1. A Charge is one attempt: its
# failure is final (rank 3). charge.updated reports edits (description, metadata) of a
# charge in any state: it names no status (rank -1).
# Stripe's refund events carry no refund id in PaymentEvent, so each is its own entry: only
# refund.created counts (one per refund); refund.updated repeats a counted refund, and
# charge.refunded's amount is the charge's, not the refund's. A charge has at most one
# dispute, so disputes are keyed by payment id and follow created -> updated ->
# funds_withdrawn -> closed (counted unless won) -> funds_reinstated.
STRIPE_LIFECYCLE: dict[EventType, Transition] = {
    E.PAYMENT_CREATED: _payment(S.CREATED, 0),
    E.PAYMENT_REQUIRES_ACTION: _payment(S.REQUIRES_ACTION, 1),
    E.PAYMENT_PROCESSING: _payment(S.PROCESSING, 1),
    E.PAYMENT_FAILED: _payment(S.FAILED, 1),
    E.PAYMENT_AUTHORIZED: _payment(S.AUTHORIZED, 2),
    E.PAYMENT_CANCELED: _payment(S.CANCELED, 3),
    E.PAYMENT_SUCCEEDED: _payment(S.SUCCEEDED, SUCCEEDED_RANK),
    E.CHARGE_SUCCEEDED: _payment(S.SUCCEEDED, SUCCEEDED_RANK),
    E.CHARGE_CAPTURED: _payment(S.SUCCEEDED, SUCCEEDED_RANK),
    E.CHARGE_FAILED: _payment(S.FAILED, 3),
    E.CHARGE_UPDATED: _payment(S.UNKNOWN, -1),
    E.CHARGE_REFUNDED: _refund(0, counts=False),
    E.REFUND_CREATED: _refund(0, counts=True),
    E.REFUND_UPDATED: _refund(1, counts=False),
    E.REFUND_FAILED: _refund(2, counts=False),
    E.DISPUTE_CREATED: _dispute(0, counts=True),
    E.DISPUTE_UPDATED: _dispute(1, counts=True),
    E.DISPUTE_FUNDS_WITHDRAWN: _dispute(2, counts=True),
    E.DISPUTE_CLOSED: _dispute(3, counts=True),
    E.DISPUTE_FUNDS_REINSTATED: _dispute(4, counts=False),
}

# Adyen: AUTHORISATION is the success (immediate capture), so a later CANCELLATION (of an
# authorised, uncaptured payment) or CAPTURE_FAILED must outrank it: both are rank 5, and a
# refused AUTHORISATION is final for its pspReference. Refund entries are keyed by the
# modification's own pspReference, which REFUND and REFUND_FAILED share.
ADYEN_LIFECYCLE = {
    **STRIPE_LIFECYCLE,
    E.PAYMENT_FAILED: _payment(S.FAILED, 3),
    E.PAYMENT_CANCELED: _payment(S.CANCELED, 5),
    E.CHARGE_FAILED: _payment(S.FAILED, 5),
}

# Braintree: settled is the success; settlement declined is final. transaction_disbursed
# (charge.updated) pays a settled transaction out, so it says succeeded. Refunds and disputes
# carry their own ids (metadata refund_id, dispute_id).
BRAINTREE_LIFECYCLE = {
    **STRIPE_LIFECYCLE,
    E.PAYMENT_FAILED: _payment(S.FAILED, 3),
    E.CHARGE_UPDATED: _payment(S.SUCCEEDED, SUCCEEDED_RANK),
}

# Square: the payment's status says it all (APPROVED -> COMPLETED, or CANCELED / FAILED,
# both final). A refund is one entry under its refund_id: refund.updated restates it (and
# counts), refund.failed ends it.
SQUARE_LIFECYCLE = {
    **STRIPE_LIFECYCLE,
    E.PAYMENT_FAILED: _payment(S.FAILED, 3),
    E.REFUND_UPDATED: _refund(1, counts=True),
}

LIFECYCLES: MappingProxyType[str, MappingProxyType[EventType, Transition]] = MappingProxyType({
    Provider.STRIPE.value: MappingProxyType(STRIPE_LIFECYCLE),
    Provider.ADYEN.value: MappingProxyType(ADYEN_LIFECYCLE),
    Provider.BRAINTREE.value: MappingProxyType(BRAINTREE_LIFECYCLE),
    Provider.SQUARE.value: MappingProxyType(SQUARE_LIFECYCLE),
})

# A closed dispute the merchant won (or an inquiry closed without a chargeback) returns the
# money: its amount no longer counts.
RELEASED_DISPUTE_STATUSES = frozenset({"won", "warning_closed"})

# What an unknown provider or event type does: nothing to the status, nothing to the sums.
NO_TRANSITION = _payment(S.UNKNOWN, -1)


def transition(provider: str, event_type: str) -> Transition:
    table = LIFECYCLES.get(provider, LIFECYCLES[Provider.STRIPE.value])
    try:
        return table[EventType(event_type)]
    except ValueError:
        return NO_TRANSITION


def entry_counts(step: Transition, event: PaymentEvent) -> bool:
    """Whether a refund's or dispute's amount counts while ``event`` is its latest step."""
    if step.effect is Effect.DISPUTE and event.status in RELEASED_DISPUTE_STATUSES:
        return False
    return step.counts


def entry_key(effect: Effect, event: PaymentEvent) -> str:
    """The refund or dispute an event is about, so its events make one entry.

    Refunds: the refund's own id where the event carries it (Square's and Braintree's
    ``refund_id``), Adyen's modification pspReference (its event id's first part), else the
    event itself (Stripe's events carry no refund id). Disputes: Braintree's ``dispute_id``,
    else the payment (a Stripe charge has at most one dispute; Adyen's chargebacks of one
    payment are stages of one dispute).
    """
    if effect is Effect.REFUND:
        if refund_id := event.metadata.get("refund_id"):
            return refund_id
        if event.provider == Provider.ADYEN.value:
            return event.provider_event_id.split(":", 1)[0]
        return event.event_id
    return event.metadata.get("dispute_id") or event.payment_id or event.event_id
