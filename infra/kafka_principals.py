"""The pipeline's Kafka principals and their ACLs: who may read and write which topic.

One SASL/SCRAM-SHA-512 principal per kind of client (``PRINCIPALS``), each with its own
generated password in ``.stack/env`` (compose: ``.env``), read under its own prefix
(contracts/kafka_auth.py). The broker runs KRaft's StandardAuthorizer with
``allow.everyone.if.no.acl.found=false``: a principal may do only what ``acl_bindings``
grants. ``broker`` is the brokers' own principal (inter-broker and controller links, and the
stack's own admin steps: ACLs, credentials, topics), the one super user. Pure: names and
bindings; infra/kafka_acls.py applies them.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from contracts import topics
from contracts.kafka_auth import setting_names

MECHANISM = "SCRAM-SHA-512"
# The faust app ids of streams/settings.py's defaults: each app's consumer group and the
# topics faust creates for it (changelogs, repartitions) start with its id. A deployment
# that renames an app id grants its new prefix.
NORMALIZER_APP_ID = "payments-normalizer"
STARTER_APP_ID = "payments-starter"

# Kafka's ACL codes (org.apache.kafka.common.acl / resource), as CreateAcls carries them.
TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID = 2, 3, 4, 5
LITERAL, PREFIXED = 3, 4
ALL, READ, WRITE, CREATE, DESCRIBE, IDEMPOTENT_WRITE = 2, 3, 4, 5, 8, 12
ALLOW = 3
CLUSTER_NAME = "kafka-cluster"
ANY_NAME = "*"


@dataclass(frozen=True, slots=True)
class Principal:
    key: str  # how operators name it: `python -m infra.kafka_acls rotate gateway`
    name: str  # the SCRAM user, User:<name>
    prefix: str  # its settings: <prefix>KAFKA_SASL_MECHANISM, _USERNAME, _PASSWORD
    who: str

    @property
    def settings(self) -> tuple[str, str, str]:
        return setting_names(self.prefix)

    @property
    def password_setting(self) -> str:
        return self.settings[2]


@dataclass(frozen=True, slots=True)
class AclBinding:
    resource_type: int
    resource_name: str
    pattern: int
    principal: str  # User:<name>
    operation: int


BROKER = Principal("broker", "broker", "BROKER_",
                   "the brokers themselves, and the stack's admin steps (super user)")
OPERATOR = Principal("operator", "operator", "",
                     "tests, replay, reconcile, the simulator, benchmarks, infra.topics")
GATEWAY = Principal("gateway", "gateway", "GATEWAY_", "the gateway's producer")
NORMALIZER = Principal("normalizer", "normalizer", "STREAMS_NORMALIZER_",
                       "the normalizer's faust worker")
STARTER = Principal("starter", "starter", "STREAMS_STARTER_", "the starter's faust worker")
REVIEWER = Principal("reviewer", "reviewer", "REVIEWER_",
                     "`orchestration.review show` and `orchestration.trace` (read only)")
PRINCIPALS = (BROKER, OPERATOR, GATEWAY, NORMALIZER, STARTER, REVIEWER)
# What services must never be handed: the super user's password.
BROKER_ONLY = frozenset(BROKER.settings)


def principal(key: str) -> Principal:
    for candidate in PRINCIPALS:
        if candidate.key == key:
            return candidate
    raise KeyError(f"no Kafka principal {key!r}; they are {', '.join(p.key for p in PRINCIPALS)}")


def _topics(who: Principal, names: tuple[str, ...], *operations: int) -> list[AclBinding]:
    return [AclBinding(TOPIC, name, LITERAL, f"User:{who.name}", op)
            for name in names for op in operations]


def _faust_app(who: Principal, app_id: str) -> list[AclBinding]:
    """A faust app's own consumer group and the topics it creates (changelogs, repartitions,
    its leader topic), all named from its app id; idempotent produce on the cluster."""
    user = f"User:{who.name}"
    return [AclBinding(GROUP, app_id, PREFIXED, user, READ),
            AclBinding(TOPIC, app_id, PREFIXED, user, ALL),
            AclBinding(CLUSTER, CLUSTER_NAME, LITERAL, user, IDEMPOTENT_WRITE)]


def acl_bindings() -> list[AclBinding]:
    """Every ACL of the pipeline. Raw topics: written by the gateway only (and the operator,
    whose replay re-feeds them with ``origin: replay``); payments.normalized by the
    normalizer only. Read implies Describe; Write does not, so it is granted beside it."""
    raw, dlqs = topics.RAW_TOPICS, (topics.PAYMENTS_VALIDATION_DLQ,)
    every = tuple(spec.name for spec in topics.TOPIC_SPECS)
    operator = f"User:{OPERATOR.name}"
    return [
        *_topics(GATEWAY, (*raw, topics.WEBHOOKS_DLQ), WRITE, DESCRIBE),
        AclBinding(CLUSTER, CLUSTER_NAME, LITERAL, f"User:{GATEWAY.name}", IDEMPOTENT_WRITE),
        *_topics(NORMALIZER, raw, READ),
        *_topics(NORMALIZER, (topics.PAYMENTS_NORMALIZED, *dlqs), WRITE, DESCRIBE),
        *_faust_app(NORMALIZER, NORMALIZER_APP_ID),
        *_topics(STARTER, (topics.PAYMENTS_NORMALIZED, topics.WEBHOOKS_DLQ, *dlqs), READ),
        *_topics(STARTER, dlqs, WRITE),
        *_faust_app(STARTER, STARTER_APP_ID),
        *_topics(REVIEWER, every, READ),
        *(AclBinding(kind, name, pattern, operator, ALL) for kind, name, pattern in (
            (TOPIC, ANY_NAME, LITERAL), (GROUP, ANY_NAME, LITERAL),
            (TRANSACTIONAL_ID, ANY_NAME, LITERAL), (CLUSTER, CLUSTER_NAME, LITERAL))),
    ]


def kafka_passwords() -> dict[str, str]:
    """A fresh password for every principal (letters, digits, - and _: safe in a JAAS line)."""
    return {p.password_setting: secrets.token_urlsafe(24) for p in PRINCIPALS}


def kafka_settings(values: Mapping[str, str]) -> dict[str, str]:
    """Each principal's mechanism and username settings, beside its password (derived lines
    of .stack/env, so every client reads one prefix's three settings)."""
    derived: dict[str, str] = {}
    for who in PRINCIPALS:
        mechanism, username, _ = who.settings
        derived.update({mechanism: MECHANISM, username: who.name})
    return derived


def scram_format_argument(password: str) -> str:
    """`kafka-storage format --add-scram` for the broker's own principal: it must exist
    before the first broker starts (the brokers sign in to each other with it)."""
    return f"{MECHANISM}=[name={BROKER.name},password={password}]"
