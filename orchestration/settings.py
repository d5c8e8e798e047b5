"""Configuration of the orchestration worker and review CLI, from ORCHESTRATOR_* variables.

Each program signs in to PostgreSQL as its own role (infra/roles.py): the worker with
``ORCHESTRATOR_POSTGRES_DSN``, the review CLI with ``ORCHESTRATOR_REVIEW_POSTGRES_DSN``, the
trace, replay and reconcile commands with ``ORCHESTRATOR_READER_POSTGRES_DSN``. A DSN without
its password, or with a placeholder one, stops the program naming the setting
(contracts/postgres.py); errors never echo a value, since DSNs hold passwords.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.postgres import check_dsn
from contracts.workflows import DEFAULT_TASK_QUEUE, REVIEWER_PATTERN
from orchestration.models import PersistBudget
from orchestration.policies import PERSIST_ROUND_PAUSE, PERSIST_ROUNDS


class MissingSettingError(Exception):
    """A setting this command needs is not set; ``setting`` names it."""

    def __init__(self, setting: str, what: str) -> None:
        super().__init__(f"{setting} is not set: {what}")
        self.setting = setting


def setting_name(model: type[BaseSettings], field: str) -> str:
    """The environment variable a field is read from: its (first) alias, or prefix + name
    (a name that is no field, e.g. an error's alias already, is returned as it is)."""
    if field not in model.model_fields:
        return field
    alias = model.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return alias if isinstance(alias, str) else model.model_config.get("env_prefix", "") + field


class OrchestratorSettings(BaseSettings):
    # No populate_by_name: a subclass that reads its DSN under another name (the review CLI,
    # the trace) must never fall back to the worker's ORCHESTRATOR_POSTGRES_DSN.
    model_config = SettingsConfigDict(env_prefix="ORCHESTRATOR_", extra="ignore",
                                      hide_input_in_errors=True)

    TEMPORAL_TARGET: str = "127.0.0.1:7233"
    TEMPORAL_NAMESPACE: str = "default"
    TASK_QUEUE: str = Field(DEFAULT_TASK_QUEUE, min_length=1)
    # The worker's role (payments_worker): no default, as no password is one.
    POSTGRES_DSN: str
    POSTGRES_POOL_MIN: int = Field(1, ge=0)
    POSTGRES_POOL_MAX: int = Field(10, ge=1)
    INFERENCE_URL: str = "http://127.0.0.1:8002"
    # One HTTP attempt; the workflow's retry policy decides how many attempts follow.
    INFERENCE_TIMEOUT_SECONDS: float = Field(3.0, gt=0)
    # Persisting (payment_events and quarantine) retries 5 times per round, for this many
    # rounds this far apart; then the workflow fails, to be re-driven with
    # `python -m orchestration.review redrive`. The defaults ride out ~11 minutes of
    # PostgreSQL outage; every worker of a task queue should share them.
    PERSIST_ROUNDS: int = Field(PERSIST_ROUNDS, ge=1)
    PERSIST_ROUND_PAUSE_SECONDS: float = Field(PERSIST_ROUND_PAUSE.total_seconds(), gt=0)
    # How often the worker counts the workflows on its task queue whose latest run failed
    # (orchestration_failed_workflows); 0 never does. Each pass lists them and describes
    # up to FAILED_WORKFLOWS_SCAN_LIMIT of them.
    FAILED_WORKFLOWS_POLL_SECONDS: float = Field(60.0, ge=0)
    FAILED_WORKFLOWS_SCAN_LIMIT: int = Field(1000, ge=1)
    # How long a quarantined event waits for a reviewer before it is marked expired.
    REVIEW_TIMEOUT_SECONDS: int = Field(7 * 24 * 3600, gt=0)
    # The review CLI's reviewer when no person runs it (an automated triage job); unset, it
    # is the OS account running the CLI. Recorded in the audit as "configured".
    REVIEWER_IDENTITY: str | None = Field(None, pattern=REVIEWER_PATTERN)
    # Moderate on purpose: a workflow task stays open while its local activities run, and
    # on a CPU-starved box 100 open tasks outlive the 10 s task timeout and get heartbeated.
    MAX_CONCURRENT_WORKFLOW_TASKS: int = Field(20, ge=2)
    MAX_CONCURRENT_ACTIVITIES: int = Field(50, ge=1)
    MAX_CONCURRENT_LOCAL_ACTIVITIES: int = Field(50, ge=1)
    GRACEFUL_SHUTDOWN_SECONDS: float = Field(20.0, ge=0)
    # Off by default: it costs 25-40 % of the worker's CPU per payment (orchestration/worker.py).
    WORKFLOW_SANDBOX: bool = False
    HEALTH_HOST: str = "127.0.0.1"
    HEALTH_PORT: int = Field(6068, ge=0, le=65535)
    # 0 turns off the Temporal SDK's own Prometheus endpoint (worker poll/latency metrics).
    SDK_METRICS_PORT: int = Field(0, ge=0, le=65535)
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("POSTGRES_DSN")
    @classmethod
    def _check_dsn(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else check_dsn(setting_name(cls, info.field_name), value)

    def persist_budget(self) -> PersistBudget:
        return PersistBudget(self.PERSIST_ROUNDS, self.PERSIST_ROUND_PAUSE_SECONDS)


class ReviewSettings(OrchestratorSettings):
    """The review CLI: the reviewer's role, needed by the commands that read quarantine
    (``list``, ``approve``, ``reject``); ``failed`` and ``redrive`` need only Temporal."""

    POSTGRES_DSN: str | None = Field(None, validation_alias="ORCHESTRATOR_REVIEW_POSTGRES_DSN")

    def review_dsn(self) -> str:
        if self.POSTGRES_DSN is None:
            raise MissingSettingError("ORCHESTRATOR_REVIEW_POSTGRES_DSN", "the reviewer's "
                                      "PostgreSQL DSN (.stack/env holds the local stack's)")
        return self.POSTGRES_DSN
