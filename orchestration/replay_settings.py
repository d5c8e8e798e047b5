"""Configuration of `python -m orchestration.replay`: where Kafka and PostgreSQL are.

The names are the ones the rest of the pipeline already reads, so one environment serves
them all: ``KAFKA_BOOTSTRAP_SERVERS`` (as the streams workers and the gateway read it; also
``ORCHESTRATOR_KAFKA_BOOTSTRAP_SERVERS``) and ``ORCHESTRATOR_READER_POSTGRES_DSN`` (the
operators' read-only role, as the trace and reconcile read it).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.postgres import check_dsn
from orchestration.kafka_sign_in import OperatorKafkaSignIn, ReviewerKafkaSignIn

__all__ = ["ReplaySettings", "ReviewKafkaSettings", "invalid_settings"]


_ALIASES = ("KAFKA_BOOTSTRAP_SERVERS", "ORCHESTRATOR_KAFKA_BOOTSTRAP_SERVERS")
_DSN = "ORCHESTRATOR_READER_POSTGRES_DSN"


class KafkaReadSettings(BaseSettings):
    """Where an operator's command reads the raw topics (replay; the review CLI's `show`)."""

    model_config = SettingsConfigDict(env_prefix="ORCHESTRATOR_", extra="ignore",
                                      hide_input_in_errors=True)

    KAFKA_BOOTSTRAP_SERVERS: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(*_ALIASES),
    )
    # How long one Kafka request (metadata, offsets, a fetch, an ack) may take before the
    # command gives up, rather than hanging on an unreachable broker.
    KAFKA_REQUEST_TIMEOUT_SECONDS: float = Field(30.0, gt=0)

    @field_validator("KAFKA_BOOTSTRAP_SERVERS")
    @classmethod
    def check_bootstrap(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        bad = [s for s in servers if not _is_host_port(s)]
        if not servers or bad:
            raise ValueError(f"must be host:port[,host:port...]; not {', '.join(bad) or value!r}")
        return ",".join(servers)


class ReviewKafkaSettings(KafkaReadSettings, ReviewerKafkaSignIn):
    """The review CLI's `show`: reads a topic as the read-only reviewer principal."""


class ReplaySettings(KafkaReadSettings, OperatorKafkaSignIn):
    """Re-feeds raw topics, as the operator principal (only it and the gateway may)."""

    POSTGRES_DSN: str = Field(validation_alias=_DSN)

    @field_validator("POSTGRES_DSN")
    @classmethod
    def _check_dsn(cls, value: str) -> str:
        return check_dsn(_DSN, value)


def _is_host_port(server: str) -> bool:
    host, sep, port = server.rpartition(":")
    return bool(sep and host and port.isdigit() and 0 < int(port) < 65536)


def invalid_settings(err: ValidationError) -> str:
    """The environment variables a ValidationError is about, each with why."""
    lines = []
    for error in err.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        # A field read through an alias is reported under the alias, already a full name.
        full = field.startswith(("ORCHESTRATOR_", "KAFKA_SASL_", "REVIEWER_", *_ALIASES))
        name = field if full else f"ORCHESTRATOR_{field}"
        lines.append(f"{name}: {error['msg']}")
    return "; ".join(lines)
