"""How often the lake is loaded, how stale it may be, and how it is kept: BATCH_* settings.

A value that breaks a rule stops whatever reads it (``dagster dev`` loading the code
location, an upkeep run) with a ``LakeConfigError`` naming the environment variable.
"""

from __future__ import annotations

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "BATCH_"
# At most 4 Iceberg commits a minute per table (issue 18): a load commits once per table,
# and the sensor starts at most one load per interval, so the interval is at least 15 s.
MAX_COMMITS_PER_MINUTE = 4
MIN_LOAD_INTERVAL_SECONDS = 60 // MAX_COMMITS_PER_MINUTE
# A reader holds the snapshot it planned on until it has read its files; an hour is far
# beyond any load or mart rebuild here. Orphan removal must also outlast the longest load:
# a load's files exist, unreferenced, until its commit lands.
MIN_SNAPSHOT_RETENTION_SECONDS = 3600
MIN_ORPHAN_AGE_SECONDS = 3600
MIN_TARGET_FILE_BYTES = 1 << 20


class LakeConfigError(ValueError):
    """A BATCH_* lake setting breaks its rule; the message names the variable."""


class LakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    # The load sensor's interval: the floor of freshness and the ceiling of commits.
    LOAD_INTERVAL_SECONDS: int = Field(default=30, ge=MIN_LOAD_INTERVAL_SECONDS)
    # The freshness check fails when a committed row has waited longer than this for bronze.
    FRESHNESS_MAX_LAG_SECONDS: int = Field(default=120, gt=0)
    # A day partition is cold, and may be compacted, once its day ended this long ago.
    COMPACTION_COLD_AFTER_SECONDS: int = Field(default=86_400, ge=0)
    # The size compaction writes files at; files under half of it count as small.
    COMPACTION_TARGET_FILE_BYTES: int = Field(default=128 << 20, ge=MIN_TARGET_FILE_BYTES)
    # Snapshots older than this are expired (the current one never is).
    SNAPSHOT_RETENTION_SECONDS: int = Field(default=86_400, ge=MIN_SNAPSHOT_RETENTION_SECONDS)
    # Files no snapshot references are removed once they are at least this old
    # (Iceberg's own default is 3 days).
    ORPHAN_MIN_AGE_SECONDS: int = Field(default=3 * 86_400, ge=MIN_ORPHAN_AGE_SECONDS)

    @model_validator(mode="after")
    def lag_outlasts_the_interval(self) -> LakeSettings:
        # A row committed just after a load waits a whole interval for the next one.
        if self.FRESHNESS_MAX_LAG_SECONDS <= self.LOAD_INTERVAL_SECONDS:
            raise ValueError(
                f"{ENV_PREFIX}FRESHNESS_MAX_LAG_SECONDS ({self.FRESHNESS_MAX_LAG_SECONDS}) must "
                f"exceed {ENV_PREFIX}LOAD_INTERVAL_SECONDS ({self.LOAD_INTERVAL_SECONDS}): "
                "rows wait up to one interval for the next load")
        return self


def load_lake_settings(**overrides) -> LakeSettings:
    """The settings from the environment (``overrides`` win), or a LakeConfigError."""
    try:
        return LakeSettings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = f"{ENV_PREFIX}{error['loc'][0]}: " if error["loc"] else ""
            problems.append(f"{name}{error['msg']}")
        raise LakeConfigError("; ".join(problems)) from None
