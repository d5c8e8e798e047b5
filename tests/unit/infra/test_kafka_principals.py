"""The principals' ACLs say what the issue asks: raw topics written by the gateway (and the
operator, for replay) only, payments.normalized by the normalizer only; each faust app owns
its group and the topics named from its app id; the stack writes every sign-in once."""

from __future__ import annotations

from contracts import topics
from contracts.kafka_auth import kafka_auth
from infra.kafka_principals import (
    ALL,
    GATEWAY,
    GROUP,
    NORMALIZER,
    OPERATOR,
    PREFIXED,
    PRINCIPALS,
    READ,
    STARTER,
    TOPIC,
    WRITE,
    acl_bindings,
    kafka_passwords,
    kafka_settings,
)
from infra.kafka_server import kafka_server_properties
from streams.settings import StreamsSettings


def writers(topic: str) -> set[str]:
    return {b.principal for b in acl_bindings()
            if b.resource_type == TOPIC and b.operation in (WRITE, ALL)
            and (b.resource_name in (topic, "*") if b.pattern != PREFIXED
                 else topic.startswith(b.resource_name))}


def test_raw_topics_are_written_by_the_gateway_and_the_operator_only():
    for raw in topics.RAW_TOPICS:
        assert writers(raw) == {f"User:{GATEWAY.name}", f"User:{OPERATOR.name}"}, raw


def test_payments_normalized_is_written_by_the_normalizer_and_the_operator_only():
    assert writers(topics.PAYMENTS_NORMALIZED) == {f"User:{NORMALIZER.name}",
                                                   f"User:{OPERATOR.name}"}


def test_each_faust_app_owns_the_group_and_topics_of_its_default_app_id():
    defaults = StreamsSettings.model_fields
    for who, field in ((NORMALIZER, "NORMALIZER_APP_ID"), (STARTER, "STARTER_APP_ID")):
        app_id = defaults[field].default
        owned = {(b.resource_type, b.operation) for b in acl_bindings()
                 if b.principal == f"User:{who.name}" and b.pattern == PREFIXED
                 and b.resource_name == app_id}
        assert owned == {(GROUP, READ), (TOPIC, ALL)}, who


def test_every_principal_gets_a_password_a_mechanism_and_its_own_username():
    values = {**kafka_passwords()}
    values.update(kafka_settings(values))
    for who in PRINCIPALS:
        auth = kafka_auth(values, who.prefix)
        assert (auth.mechanism, auth.username) == ("SCRAM-SHA-512", who.name)
    assert len({values[who.password_setting] for who in PRINCIPALS}) == len(PRINCIPALS)


def test_every_broker_listener_signs_clients_in_and_authorizes_by_acl():
    rendered = kafka_server_properties(__import__("pathlib").Path("/data"),
                                       broker_password="the-brokers-own-password-0123")
    protocols = next(line for line in rendered.splitlines()
                     if line.startswith("listener.security.protocol.map="))
    assert all(entry.endswith(":SASL_PLAINTEXT") for entry in protocols.split("=")[1].split(","))
    for listener in ("client", "via_gateway", "via_normalizer", "via_starter"):
        assert f"listener.name.{listener}.scram-sha-512.sasl.jaas.config=" in rendered
    assert "allow.everyone.if.no.acl.found=false" in rendered
    assert "super.users=User:broker\n" in rendered
