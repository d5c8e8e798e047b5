"""Kafka topic names and their partition counts: the one list both the stack and services use."""

from dataclasses import dataclass

STRIPE_PAYMENT_INTENT = "webhooks.stripe.payment_intent"
STRIPE_CHARGE = "webhooks.stripe.charge"
STRIPE_REFUND = "webhooks.stripe.refund"
ADYEN_NOTIFICATION = "webhooks.adyen.notification"
BRAINTREE_NOTIFICATION = "webhooks.braintree.notification"
SQUARE_PAYMENT = "webhooks.square.payment"
SQUARE_REFUND = "webhooks.square.refund"
WEBHOOKS_DLQ = "webhooks.dlq"
PAYMENTS_NORMALIZED = "payments.normalized"
PAYMENTS_VALIDATION_DLQ = "payments.validation.dlq"

STRIPE_RAW_TOPICS = (STRIPE_PAYMENT_INTENT, STRIPE_CHARGE, STRIPE_REFUND)
RAW_TOPICS = STRIPE_RAW_TOPICS + (
    ADYEN_NOTIFICATION,
    BRAINTREE_NOTIFICATION,
    SQUARE_PAYMENT,
    SQUARE_REFUND,
)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int


# Keys are provider event ids or event_ids, so one event always lands on one partition;
# three partitions let three normalizer workers share the load.
TOPIC_SPECS: tuple[TopicSpec, ...] = tuple(
    TopicSpec(name, 3) for name in RAW_TOPICS + (PAYMENTS_NORMALIZED, PAYMENTS_VALIDATION_DLQ)
) + (TopicSpec(WEBHOOKS_DLQ, 1),)
