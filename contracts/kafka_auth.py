"""How every Kafka client of the pipeline signs in: SASL settings -> aiokafka keyword arguments.

The broker (infra/kafka/server.properties.template, compose's kafka) accepts only SASL/SCRAM
clients, each a principal with its own ACLs (infra/kafka_principals.py; the README's
"Security and data handling" lists them). Each client reads three settings under its own
prefix: ``<PREFIX>KAFKA_SASL_MECHANISM``, ``<PREFIX>KAFKA_SASL_USERNAME`` and
``<PREFIX>KAFKA_SASL_PASSWORD`` (``GATEWAY_``, ``STREAMS_NORMALIZER_``, ``STREAMS_STARTER_``,
``REVIEWER_``; no prefix for the operator's tools and the tests). No mechanism means no
authentication (a broker without SASL); a mechanism without a username or a password, or a
username without a mechanism, or a placeholder or short password (as PostgreSQL's, in
contracts/postgres.py), is a configuration error naming the setting. The messages never
quote the password. Pure: the standard library only, so every service may import it.

The listener is SASL_PLAINTEXT: the stack's brokers listen on loopback (compose: its own
network). TLS (SASL_SSL) is the production step; the README says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.postgres import check_password

__all__ = ["MECHANISMS", "NO_AUTH", "KafkaAuth", "kafka_auth", "setting_names"]

MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
SECURITY_PROTOCOL = "SASL_PLAINTEXT"


def setting_names(prefix: str = "") -> tuple[str, str, str]:
    """The mechanism, username and password settings under ``prefix`` (e.g. ``GATEWAY_``)."""
    return (f"{prefix}KAFKA_SASL_MECHANISM", f"{prefix}KAFKA_SASL_USERNAME",
            f"{prefix}KAFKA_SASL_PASSWORD")


@dataclass(frozen=True, slots=True)
class KafkaAuth:
    """One client's sign-in; checked when built (a ValueError names the setting)."""

    mechanism: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    prefix: str = ""  # whose settings these are, for the error messages

    def __post_init__(self) -> None:
        mechanism_name, username_name, password_name = setting_names(self.prefix)
        if not self.mechanism:
            if self.username or self.password:
                raise ValueError(f"{mechanism_name} is not set, but {username_name} or "
                                 f"{password_name} is; set it to one of {', '.join(MECHANISMS)}")
            return
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"{mechanism_name}={self.mechanism!r} is not one of "
                             f"{', '.join(MECHANISMS)}")
        if not self.username:
            raise ValueError(f"{mechanism_name} is set but {username_name} is empty")
        if not self.password:
            raise ValueError(f"{mechanism_name} is set but {password_name} is empty")
        check_password(password_name, self.password)  # no placeholder, no short one

    @property
    def enabled(self) -> bool:
        return bool(self.mechanism)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient
        (empty without SASL: aiokafka's PLAINTEXT default)."""
        if not self.enabled:
            return {}
        return {"security_protocol": SECURITY_PROTOCOL, "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username, "sasl_plain_password": self.password}


def sign_in(mechanism: str, username: str, password: str, prefix: str = "") -> KafkaAuth:
    """The sign-in from the three settings' values as read (spaces trimmed, the mechanism's
    name in any case): every settings class and ``kafka_auth`` build it here."""
    return KafkaAuth(mechanism.strip().upper(), username.strip(), password.strip(), prefix)


def kafka_auth(env: Mapping[str, str], prefix: str = "") -> KafkaAuth:
    """The sign-in that ``env`` (the environment, or ``.stack/env``'s lines) gives ``prefix``."""
    return sign_in(*(env.get(name, "") for name in setting_names(prefix)), prefix)


# A client without SASL (a broker without it): the default of every function that takes one.
NO_AUTH = KafkaAuth()
