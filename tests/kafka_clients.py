"""The sign-in of every Kafka client a test makes: the operator principal's (KAFKA_SASL_*),
which may read and write every topic (infra/kafka_principals.py). tests/conftest.py puts the
stack's operator sign-in in the environment first."""

from __future__ import annotations

import os
from typing import Any

from contracts.kafka_auth import KafkaAuth, kafka_auth


def operator_auth() -> KafkaAuth:
    return kafka_auth(os.environ)


def kafka_kwargs() -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
    return operator_auth().client_kwargs()
