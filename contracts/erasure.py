"""How an erased customer is named once erased: the sha256 of the id, never the id.

``python -m batch.erase`` records the digest in PostgreSQL's ``erased_customers``; the batch
load (Python, ``customer_sha256``) and the orchestration worker (SQL,
``CUSTOMER_SHA256_SQL``) compute the same digest to keep that customer's rows out.
tests/integration/batch/test_lake_erasure_under_load.py pins the two equal on a server.
"""

from __future__ import annotations

import hashlib
import re

# Longer than any provider's customer reference (Stripe's cus_…, Adyen's shopperReference).
CUSTOMER_ID_MAX_CHARS = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# PostgreSQL's form of customer_sha256, with the id as the one placeholder.
CUSTOMER_SHA256_SQL = "encode(sha256(convert_to({}, 'UTF8')), 'hex')"


class InvalidCustomerIdError(ValueError):
    """The value cannot be a customer id; the message never quotes it."""


def check_customer_id(value: str) -> str:
    """The id unchanged, or InvalidCustomerIdError: empty, padded, control characters or
    too long (a copy-paste slip would otherwise erase nobody and look like success)."""
    if not value or not value.strip():
        raise InvalidCustomerIdError("the customer id is empty")
    if value != value.strip():
        raise InvalidCustomerIdError("the customer id starts or ends with white space")
    if _CONTROL.search(value):
        raise InvalidCustomerIdError("the customer id holds a control character")
    if len(value) > CUSTOMER_ID_MAX_CHARS:
        raise InvalidCustomerIdError(
            f"the customer id is longer than {CUSTOMER_ID_MAX_CHARS} characters")
    return value


def customer_sha256(customer_id: str) -> str:
    """The lower-case hex sha256 of the id's UTF-8 bytes."""
    return hashlib.sha256(customer_id.encode("utf-8")).hexdigest()
