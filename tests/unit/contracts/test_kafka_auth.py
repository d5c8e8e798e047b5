"""Every Kafka client's sign-in: three settings under its prefix become aiokafka's keyword
arguments, and a bad combination is refused naming the setting, never quoting the password."""

from __future__ import annotations

import pytest

from contracts.kafka_auth import NO_AUTH, KafkaAuth, kafka_auth

PASSWORD = "a-generated-password-of-32-chars"


def test_a_full_sign_in_becomes_sasl_keyword_arguments():
    auth = kafka_auth({"GATEWAY_KAFKA_SASL_MECHANISM": "scram-sha-512",
                       "GATEWAY_KAFKA_SASL_USERNAME": "gateway",
                       "GATEWAY_KAFKA_SASL_PASSWORD": PASSWORD}, "GATEWAY_")
    assert auth.client_kwargs() == {
        "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "gateway", "sasl_plain_password": PASSWORD}
    assert PASSWORD not in repr(auth)


def test_no_mechanism_means_no_sasl():
    assert kafka_auth({}).client_kwargs() == {} == NO_AUTH.client_kwargs()
    assert not NO_AUTH.enabled


@pytest.mark.parametrize(("values", "named"), [
    ({"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "operator"},
     "KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_PASSWORD": PASSWORD},
     "KAFKA_SASL_USERNAME"),
    ({"KAFKA_SASL_USERNAME": "operator", "KAFKA_SASL_PASSWORD": PASSWORD},
     "KAFKA_SASL_MECHANISM"),
    ({"KAFKA_SASL_MECHANISM": "GSSAPI", "KAFKA_SASL_USERNAME": "operator",
      "KAFKA_SASL_PASSWORD": PASSWORD}, "KAFKA_SASL_MECHANISM"),
    ({"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "operator",
      "KAFKA_SASL_PASSWORD": "replace_me_kafka_operator"}, "KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "operator",
      "KAFKA_SASL_PASSWORD": "short"}, "KAFKA_SASL_PASSWORD"),
])
def test_a_bad_combination_is_refused_naming_the_setting(values, named):
    with pytest.raises(ValueError, match=named) as refused:
        kafka_auth(values)
    assert PASSWORD not in str(refused.value)


def test_the_message_names_the_clients_own_prefix():
    with pytest.raises(ValueError, match="STREAMS_STARTER_KAFKA_SASL_PASSWORD"):
        KafkaAuth("SCRAM-SHA-512", "starter", "", "STREAMS_STARTER_")
