"""The Kafka sign-in of orchestration's operator tools, as mixins of their settings classes.

Replay and reconcile re-feed raw topics (``origin: replay``), which only the gateway and the
operator principal may write: they sign in as the operator (``KAFKA_SASL_*``, as the tests
and infra.topics do). `review show` and `trace` only read topics: they sign in as the
read-only reviewer principal (``REVIEWER_KAFKA_SASL_*``). contracts/kafka_auth.py checks the
three settings; a bad combination stops the command naming the setting. Placed after the
settings class in the bases, so that its configuration (prefix) wins.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from contracts.kafka_auth import KafkaAuth, sign_in

__all__ = ["OperatorKafkaSignIn", "ReviewerKafkaSignIn"]


class OperatorKafkaSignIn(BaseModel):
    KAFKA_SASL_MECHANISM: str = Field("", validation_alias="KAFKA_SASL_MECHANISM")
    KAFKA_SASL_USERNAME: str = Field("", validation_alias="KAFKA_SASL_USERNAME")
    KAFKA_SASL_PASSWORD: str = Field("", repr=False, validation_alias="KAFKA_SASL_PASSWORD")

    @model_validator(mode="after")
    def _check_kafka_auth(self) -> OperatorKafkaSignIn:
        self.kafka_auth()  # a ValueError names the setting
        return self

    def kafka_auth(self) -> KafkaAuth:
        return sign_in(self.KAFKA_SASL_MECHANISM, self.KAFKA_SASL_USERNAME,
                       self.KAFKA_SASL_PASSWORD)


class ReviewerKafkaSignIn(BaseModel):
    REVIEWER_KAFKA_SASL_MECHANISM: str = Field(
        "", validation_alias="REVIEWER_KAFKA_SASL_MECHANISM")
    REVIEWER_KAFKA_SASL_USERNAME: str = Field(
        "", validation_alias="REVIEWER_KAFKA_SASL_USERNAME")
    REVIEWER_KAFKA_SASL_PASSWORD: str = Field(
        "", repr=False, validation_alias="REVIEWER_KAFKA_SASL_PASSWORD")

    @model_validator(mode="after")
    def _check_kafka_auth(self) -> ReviewerKafkaSignIn:
        self.kafka_auth()
        return self

    def kafka_auth(self) -> KafkaAuth:
        return sign_in(self.REVIEWER_KAFKA_SASL_MECHANISM, self.REVIEWER_KAFKA_SASL_USERNAME,
                       self.REVIEWER_KAFKA_SASL_PASSWORD, "REVIEWER_")
