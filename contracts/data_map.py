"""The data map: every field the pipeline receives, what it does with it, where and how long.

Pure data, read by three parties that must agree: the redaction of dead letters and
quarantine (``contracts.redaction`` masks every key a MASKED rule names, at any depth; the
lookups are derived in ``contracts.data_map_index``), the unified event (which keeps only the
fields a KEPT rule feeds, and metadata through ``METADATA_ALLOWED_KEYS``), and the README's
"Security and data handling" section, rendered from here (``python -m
contracts.data_map_markdown``; a unit test pins the README to it).

Paths are dotted, relative to the value on the raw topic: Stripe's and Square's event JSON,
the Adyen NotificationRequestItem (the gateway writes each item alone), and for Braintree the
form's fields and, under ``notification.``, its ``bt_payload`` XML as the SDK reads it
(``-`` in element names becomes ``_``). ``[]`` marks a list's items and ``*`` spans any run of
characters, dots included; a pattern also covers everything beneath it. A field takes the
first rule that matches: masked rules first (masking follows the key, wherever it is), then
the provider's, then those for any provider, then the provider's fallbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ANY_PROVIDER = "*"
# What a masked value becomes in every redacted copy. Nulls and empty strings stay as they
# are: they hold nothing, and a reviewer learns that the field was absent.
MASK = "[masked]"


class Category(StrEnum):
    CARD_DATA = "card data"  # numbers, expiry, fingerprint, BIN: never kept past the raw topic
    CARD_SUMMARY = "card summary"  # brand, last four, method type: what the event keeps
    CARD_DETAIL = "card detail"  # funding, checks, network, wallet: not identifying alone
    PERSONAL = "personal"  # names, e-mail, phone, addresses, IPs, receipt links, evidence
    CREDENTIAL = "credential"  # client secrets and payment-method tokens
    PAYMENT = "payment"  # amounts, currency, status, types, times, failure codes
    REFERENCE = "reference"  # ids of events, payments, customers, merchants, orders
    FREE_TEXT = "free text"  # messages and reasons written by people
    TECHNICAL = "technical"  # signatures, versions, flags and the rest


class Treatment(StrEnum):
    KEPT = "kept"
    ALLOW_LISTED = "kept if allow-listed"
    MASKED = "masked"
    HASHED = "hashed"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Store:
    """One place data rests, what it holds and for how long."""

    name: str
    where: str
    holds: str
    kept_for: str


_ERASABLE = "until deleted, or the customer erased (`python -m batch.erase`)"
_LAKE_KEPT = (_ERASABLE + " with the snapshots and files that held them; older snapshots "
              "expire after BATCH_SNAPSHOT_RETENTION_SECONDS (1 day)")

# The stores, by the short names the field table uses. Raw holds every field as received;
# event stores hold the unified event; copies hold dead letters' redacted payloads.
STORES: tuple[Store, ...] = (
    Store("raw", "Kafka `webhooks.<provider>.*` and `webhooks.dlq`",
          "the body as received: every field, unmasked",
          "7 days (the broker's `log.retention.hours=168`)"),
    Store("event", "Kafka `payments.normalized`",
          "the unified event: the fields whose rule says kept", "7 days"),
    Store("event", "Temporal `PaymentEventWorkflow` and `PaymentBatchWorkflow` histories",
          "the unified event",
          "the namespace's retention after the workflow closes"),
    Store("event", "PostgreSQL `payment_events`, `payments`",
          "the unified event, its scores, each payment's state", _ERASABLE),
    Store("event", "Iceberg `bronze.payment_events`, `silver.*`, `gold.*`",
          "the same rows and their marts", _LAKE_KEPT),
    Store("copies", "Kafka `payments.validation.dlq`",
          "a dead letter: the redacted payload (4 KiB at most), the original's sha256 and "
          "length, and its raw-topic coordinates", "7 days"),
    Store("copies", "Temporal `DLQReviewWorkflow` histories", "the same dead letter",
          "open until reviewed or expired (`ORCHESTRATOR_REVIEW_TIMEOUT_SECONDS`, 7 days), "
          "then the namespace's retention"),
    Store("copies", "PostgreSQL `payment_events_quarantine`",
          "the redacted payload, `payload_sha256`, the coordinates, the review", _ERASABLE),
    Store("copies", "Iceberg `bronze.payment_events_quarantine`",
          "the same row, with `payload_sha256`", _LAKE_KEPT),
)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """Fields of one provider (or of any) that the pipeline treats alike."""

    provider: str
    paths: tuple[str, ...]
    category: Category
    event: Treatment  # in the unified event (and so in every event store)
    copies: Treatment  # in dead letters, quarantine and the bronze quarantine
    event_field: str | None = None  # the PaymentEvent field it feeds
    note: str = ""
    fallback: bool = False  # tried last: what the provider's other rules leave


def _rule(provider: str, paths: tuple[str, ...], category: Category, event: Treatment,
          event_field: str | None = None, copies: Treatment = Treatment.KEPT, note: str = "",
          fallback: bool = False) -> FieldRule:
    return FieldRule(provider, paths, category, event, copies, event_field, note, fallback)


K, A, M, D = Treatment.KEPT, Treatment.ALLOW_LISTED, Treatment.MASKED, Treatment.DROPPED
C = Category

# Metadata reaches the unified event only under these keys (the mappers' own names and the
# common merchant ones), each value cut to METADATA_MAX_VALUE_CHARS and the whole to
# METADATA_MAX_BYTES as compact JSON: a provider's free-form metadata is where merchants
# put e-mail addresses and names, and it would otherwise be stored forever.
METADATA_ALLOWED_KEYS: tuple[str, ...] = (
    "order_id", "merchant_id", "merchant_reference", "reference_id", "invoice_id",
    "subscription_id", "location_id", "refund_id", "dispute_id", "dispute_kind",
    "dispute_reason", "reason",
)
METADATA_MAX_VALUE_CHARS = 200
METADATA_MAX_BYTES = 1024

# Masked in every copy, for every provider: the categories the issue names (card numbers,
# expiry, fingerprint, BIN, names, e-mail, phone, addresses) and what gives access to them.
_ANY_RULES = (
    _rule(ANY_PROVIDER, ("*.number", "*.card_number", "*.pan", "*.masked_number",
                         "*.account_number", "*.iban", "*.routing_number"),
          C.CARD_DATA, D, copies=M, note="card and bank account numbers"),
    _rule(ANY_PROVIDER, ("*.exp_month", "*.exp_year", "*.expiration_month",
                         "*.expiration_year", "*.expiration_date", "*.expiryDate"),
          C.CARD_DATA, D, copies=M, note="card expiry"),
    _rule(ANY_PROVIDER, ("*.cvc", "*.cvv", "*.security_code"), C.CARD_DATA, D, copies=M),
    _rule(ANY_PROVIDER, ("*.fingerprint", "*.unique_number_identifier"), C.CARD_DATA, D,
          copies=M, note="one card across merchants"),
    _rule(ANY_PROVIDER, ("*.bin", "*.iin", "*.cardBin", "*.issuerBin"), C.CARD_DATA, D,
          copies=M, note="the card number's first digits"),
    _rule(ANY_PROVIDER, ("*.client_secret", "*.token"), C.CREDENTIAL, D, copies=M,
          note="they confirm a payment or charge a stored card"),
    _rule(ANY_PROVIDER, ("*.name", "*.first_name", "*.last_name", "*.firstName", "*.lastName",
                         "*.cardholder_name", "*.cardHolderName", "*.account_holder_name",
                         "*.customer_name", "*.shopperName"), C.PERSONAL, D, copies=M,
          note="names"),
    _rule(ANY_PROVIDER, ("*.email", "*.receipt_email", "*.buyer_email_address",
                         "*.customer_email_address", "*.shopperEmail", "*.payer_email"),
          C.PERSONAL, D, copies=M, note="e-mail addresses"),
    _rule(ANY_PROVIDER, ("*.phone", "*.phone_number", "*.buyer_phone_number", "*.fax",
                         "*.telephoneNumber", "*.shopperTelephone"), C.PERSONAL, D, copies=M,
          note="phone numbers"),
    _rule(ANY_PROVIDER, ("*.billing_details", "*.shipping", "*.address", "*.billing_address",
                         "*.shipping_address", "*.billingAddress", "*.deliveryAddress",
                         "*.line1", "*.line2", "*.address_line_1", "*.address_line_2",
                         "*.address_line_3", "*.street", "*.street_address",
                         "*.extended_address", "*.houseNumberOrName", "*.city", "*.locality",
                         "*.sublocality", "*.state", "*.region", "*.stateOrProvince",
                         "*.administrative_district_level_1", "*.postal_code", "*.postalCode",
                         "*.zip", "*.country", "*.country_name", "*.country_code_alpha2",
                         "*.country_code_alpha3", "*.address_city", "*.address_country",
                         "*.address_line1", "*.address_line2", "*.address_state",
                         "*.address_zip", "*.tracking_number"), C.PERSONAL, D, copies=M,
          note="billing and shipping details, postal addresses"),
    _rule(ANY_PROVIDER, ("*.ip_address", "*.customer_ip", "*.customer_purchase_ip",
                         "*.shopperIP"), C.PERSONAL, D, copies=M, note="IP addresses"),
    _rule(ANY_PROVIDER, ("*.receipt_url", "*.evidence", "*.customer_signature"), C.PERSONAL, D,
          copies=M, note="receipt links open the customer's receipt; dispute evidence"),
    _rule(ANY_PROVIDER, ("*.reason",), C.FREE_TEXT, D, copies=M,
          note="free text; Adyen puts authCode:cardSummary:expiryDate in it"),
)

_STRIPE = (
    _rule("stripe", ("id",), C.REFERENCE, K, "provider_event_id", note="and event_id"),
    _rule("stripe", ("type",), C.PAYMENT, K, "event_type", note="mapped"),
    _rule("stripe", ("created",), C.PAYMENT, K, "provider_created_at"),
    _rule("stripe", ("account",), C.REFERENCE, K, "merchant_id"),
    _rule("stripe", ("data.object.id", "data.object.charge", "data.object.payment_intent"),
          C.REFERENCE, K, "payment_id", note="a refund's or dispute's charge is its payment"),
    _rule("stripe", ("data.object.amount",), C.PAYMENT, K, "amount_cents"),
    _rule("stripe", ("data.object.currency",), C.PAYMENT, K, "currency"),
    _rule("stripe", ("data.object.status", "data.object.paid"), C.PAYMENT, K, "status"),
    _rule("stripe", ("data.object.customer",), C.REFERENCE, K, "customer_id"),
    _rule("stripe", ("data.object.failure_code", "data.object.last_payment_error.code",
                     "data.object.last_payment_error.decline_code"), C.PAYMENT, K,
          "failure_code"),
    _rule("stripe", ("data.object.failure_message", "data.object.last_payment_error.message"),
          C.FREE_TEXT, K, "failure_message"),
    _rule("stripe", ("data.object.metadata",), C.REFERENCE, A, "metadata"),
    _rule("stripe", ("*.payment_method_details.type", "*.payment_method.type"),
          C.CARD_SUMMARY, K, "payment_method_type"),
    _rule("stripe", ("*.card.brand", "data.object.source.brand"), C.CARD_SUMMARY, K,
          "card_brand"),
    _rule("stripe", ("*.card.last4", "data.object.source.last4"), C.CARD_SUMMARY, K,
          "card_last_four"),
    _rule("stripe", ("*.card", "*.payment_method_details", "*.payment_method",
                     "data.object.source"), C.CARD_DETAIL, D, fallback=True,
          note="funding, checks, network, wallet, 3-D Secure"),
    _rule("stripe", ("*",), C.TECHNICAL, D, fallback=True,
          note="the rest: livemode, api_version, request, outcome, descriptions, refund and "
               "balance-transaction lists, capture and payment-method options, next_action"),
)

_ADYEN = (
    _rule("adyen", ("live", "notificationItems"), C.TECHNICAL, D, copies=D,
          note="the batch around the items: the gateway writes each item alone"),
    _rule("adyen", ("pspReference", "originalReference"), C.REFERENCE, K, "payment_id",
          note="a modification's originalReference, else pspReference; both in event_id"),
    _rule("adyen", ("eventCode", "success", "additionalData.modification.action"), C.PAYMENT,
          K, "event_type", note="and status"),
    _rule("adyen", ("amount.value",), C.PAYMENT, K, "amount_cents"),
    _rule("adyen", ("amount.currency",), C.PAYMENT, K, "currency"),
    _rule("adyen", ("eventDate",), C.PAYMENT, K, "provider_created_at"),
    _rule("adyen", ("merchantAccountCode",), C.REFERENCE, K, "merchant_id"),
    _rule("adyen", ("merchantReference", "additionalData.metadata"), C.REFERENCE, A,
          "metadata", note="as merchant_reference and the metadata.* keys"),
    _rule("adyen", ("additionalData.shopperReference",), C.REFERENCE, K, "customer_id",
          note="Adyen asks merchants to keep personal data out of it"),
    _rule("adyen", ("paymentMethod",), C.CARD_SUMMARY, K, "card_brand",
          note="and payment_method_type"),
    _rule("adyen", ("additionalData.cardSummary",), C.CARD_SUMMARY, K, "card_last_four"),
    _rule("adyen", ("reason",), C.CARD_DATA, K, "failure_message", copies=M,
          note="kept only on a refusal: a successful AUTHORISATION's reason is "
               "authCode:cardSummary:expiryDate"),
    _rule("adyen", ("additionalData.refusalReasonCode",), C.PAYMENT, K, "failure_code",
          note="refusal_<code> when reason is empty"),
    _rule("adyen", ("additionalData.hmacSignature",), C.TECHNICAL, D,
          note="kept on the raw topic so the item can be verified again"),
    _rule("adyen", ("*",), C.TECHNICAL, D, fallback=True,
          note="the rest: operations, authCode, chargebackReasonCode, other additionalData"),
)

_BRAINTREE = (
    _rule("braintree", ("bt_signature",), C.TECHNICAL, D),
    _rule("braintree", ("notification.kind",), C.PAYMENT, K, "event_type"),
    _rule("braintree", ("notification.timestamp",), C.PAYMENT, K, "provider_created_at"),
    _rule("braintree", ("*.transaction.id", "*.transactions[].id",
                        "*.refunded_transaction_id"), C.REFERENCE, K, "payment_id"),
    _rule("braintree", ("*.amount", "*.amount_disputed"), C.PAYMENT, K, "amount_cents"),
    _rule("braintree", ("*.currency_iso_code",), C.PAYMENT, K, "currency"),
    _rule("braintree", ("*.status",), C.PAYMENT, K, "status"),
    _rule("braintree", ("*.merchant_account_id",), C.REFERENCE, K, "merchant_id"),
    _rule("braintree", ("*.customer.id",), C.REFERENCE, K, "customer_id"),
    _rule("braintree", ("*.credit_card.card_type",), C.CARD_SUMMARY, K, "card_brand"),
    _rule("braintree", ("*.credit_card.last_4",), C.CARD_SUMMARY, K, "card_last_four"),
    _rule("braintree", ("*.payment_instrument_type",), C.CARD_SUMMARY, K,
          "payment_method_type"),
    _rule("braintree", ("*.gateway_rejection_reason", "*.processor_response_code",
                        "*.processor_settlement_response_code"), C.PAYMENT, K, "failure_code"),
    _rule("braintree", ("*.processor_response_text", "*.processor_settlement_response_text"),
          C.FREE_TEXT, K, "failure_message"),
    _rule("braintree", ("*.dispute.reason",), C.FREE_TEXT, A, "metadata", copies=M,
          note="as dispute_reason"),
    _rule("braintree", ("*.order_id", "*.subscription_id", "notification.subject.subscription.id",
                        "*.dispute.id", "*.dispute.kind"), C.REFERENCE, A, "metadata"),
    _rule("braintree", ("*.credit_card", "*.us_bank_account", "*.payment_instrument_subtype"),
          C.CARD_DETAIL, D, fallback=True, note="bank account type, card subtype"),
    _rule("braintree", ("*",), C.TECHNICAL, D, fallback=True,
          note="the rest: dispute dates and case numbers, status history, tax amount"),
)

_SQUARE = (
    _rule("square", ("event_id",), C.REFERENCE, K, "provider_event_id", note="and event_id"),
    _rule("square", ("type",), C.PAYMENT, K, "event_type", note="with the payment's status"),
    _rule("square", ("created_at",), C.PAYMENT, K, "provider_created_at"),
    _rule("square", ("merchant_id",), C.REFERENCE, K, "merchant_id"),
    _rule("square", ("data.object.payment.id", "data.object.refund.payment_id"), C.REFERENCE,
          K, "payment_id"),
    _rule("square", ("data.object.*.amount_money.amount",), C.PAYMENT, K, "amount_cents"),
    _rule("square", ("data.object.*.amount_money.currency",), C.PAYMENT, K, "currency"),
    _rule("square", ("data.object.payment.status", "data.object.refund.status"), C.PAYMENT, K,
          "status"),
    _rule("square", ("data.object.payment.customer_id",), C.REFERENCE, K, "customer_id"),
    _rule("square", ("*.card.card_brand",), C.CARD_SUMMARY, K, "card_brand"),
    _rule("square", ("*.card.last_4",), C.CARD_SUMMARY, K, "card_last_four"),
    _rule("square", ("data.object.payment.source_type",), C.CARD_SUMMARY, K,
          "payment_method_type"),
    _rule("square", ("*.card_details.errors[].code",), C.PAYMENT, K, "failure_code"),
    _rule("square", ("*.card_details.errors[].detail",), C.FREE_TEXT, K, "failure_message"),
    _rule("square", ("data.object.refund.reason",), C.FREE_TEXT, A, "metadata", copies=M),
    _rule("square", ("*.location_id", "*.order_id", "*.reference_id", "data.object.refund.id"),
          C.REFERENCE, A, "metadata"),
    _rule("square", ("*.card_details",), C.CARD_DETAIL, D, fallback=True,
          note="card type, prepaid type, AVS and CVV results, entry method"),
    _rule("square", ("*",), C.TECHNICAL, D, fallback=True,
          note="the rest: other money fields, timelines, risk evaluation, versions"),
)

# The one table: each provider's rules, then those for every provider.
FIELD_RULES: tuple[FieldRule, ...] = _STRIPE + _ADYEN + _BRAINTREE + _SQUARE + _ANY_RULES

# The body as a whole: a copy keeps its redaction, and only the digest of the original.
WHOLE_BODY = FieldRule(ANY_PROVIDER, ("(the whole body)",), C.TECHNICAL, D, Treatment.HASHED,
                       note="copies keep its sha256 and length, and address the original by "
                            "its raw-topic coordinates (`review show`)")


__all__ = [
    "ANY_PROVIDER", "FIELD_RULES", "MASK", "METADATA_ALLOWED_KEYS", "METADATA_MAX_BYTES",
    "METADATA_MAX_VALUE_CHARS", "STORES", "WHOLE_BODY", "Category", "FieldRule", "Store",
    "Treatment",
]
