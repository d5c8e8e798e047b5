"""Configuration of the streams workers, read once from the environment at import.

faust picks its store and data directory when the app module is imported, so these
settings are built there, before ``faust.App``; tests set the environment first.

Each provider's raw topics are settings too, ``STREAMS_TOPIC_<NAME>`` (``<NAME>`` is the
topic's short name in ``contracts.providers.RAW_TOPIC_NAMES``): one field per topic in
``contracts.providers.RAW_TOPICS``, defaulting to the topic itself, so that a deployment may
rename any of them and a new provider's topics need no line here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, create_model, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import providers as contract
from contracts import topics
from contracts.kafka_auth import KafkaAuth, sign_in
from contracts.limits import MAX_RECORD_BYTES
from contracts.providers import PROVIDER_NAMES
from contracts.workflows import BATCH_MAX_EVENTS, DEFAULT_TASK_QUEUE

# Stripe retries a webhook for up to three days, so a shorter memory would let a
# late retry through as a new event.
MIN_DEDUP_RETENTION_SECONDS = 3 * 24 * 3600
# The longest a payment may wait for its batch to fill: every event of a batch stays
# unacknowledged (and its payment unstarted) that long, so a longer window reads as latency
# at low rates, and nothing is gained once the rate fills batches before it closes.
MAX_BATCH_WINDOW_SECONDS = 5.0


class _StreamsSettings(BaseSettings):
    """One settings class for the normalizer, starter and simulator apps (prefix STREAMS_).

    The provider credentials the simulator signs with are the gateway's settings, read under
    the gateway's names by ``streams.simulation.signing.SigningSettings``, so the two workers
    never hold them.
    """

    model_config = SettingsConfigDict(env_prefix="STREAMS_", extra="ignore")

    KAFKA_BOOTSTRAP_SERVERS: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "STREAMS_KAFKA_BOOTSTRAP_SERVERS"),
    )
    # Each app signs in as its own principal (contracts/kafka_auth.py, README "Security and
    # data handling"): STREAMS_NORMALIZER_KAFKA_SASL_*, STREAMS_STARTER_KAFKA_SASL_*; the
    # simulator, which writes raw topics as an operator's tool does, KAFKA_SASL_*.
    NORMALIZER_KAFKA_SASL_MECHANISM: str = ""
    NORMALIZER_KAFKA_SASL_USERNAME: str = ""
    NORMALIZER_KAFKA_SASL_PASSWORD: str = Field(default="", repr=False)
    STARTER_KAFKA_SASL_MECHANISM: str = ""
    STARTER_KAFKA_SASL_USERNAME: str = ""
    STARTER_KAFKA_SASL_PASSWORD: str = Field(default="", repr=False)
    SIMULATOR_KAFKA_SASL_MECHANISM: str = Field(default="", validation_alias=AliasChoices(
        "KAFKA_SASL_MECHANISM", "STREAMS_SIMULATOR_KAFKA_SASL_MECHANISM"))
    SIMULATOR_KAFKA_SASL_USERNAME: str = Field(default="", validation_alias=AliasChoices(
        "KAFKA_SASL_USERNAME", "STREAMS_SIMULATOR_KAFKA_SASL_USERNAME"))
    SIMULATOR_KAFKA_SASL_PASSWORD: str = Field(default="", repr=False, validation_alias=(
        AliasChoices("KAFKA_SASL_PASSWORD", "STREAMS_SIMULATOR_KAFKA_SASL_PASSWORD")))
    DATA_DIR: Path = Path(".stack/faust")
    STORE: str = "rocksdb://"
    LOG_LEVEL: str = "INFO"

    NORMALIZER_APP_ID: str = "payments-normalizer"
    STARTER_APP_ID: str = "payments-starter"
    SIMULATOR_APP_ID: str = "payments-simulator"
    # One port for whichever app runs, when set; else each app's default (6066 / 6067).
    WEB_PORT: int | None = None
    WEB_HOST: str = "127.0.0.1"

    # The raw topics' fields, TOPIC_<NAME>, are added below (with_raw_topics).
    # Which providers' raw topics the normalizer consumes (comma-separated).
    NORMALIZER_PROVIDERS: str = ",".join(PROVIDER_NAMES)
    TOPIC_NORMALIZED: str = topics.PAYMENTS_NORMALIZED
    TOPIC_VALIDATION_DLQ: str = topics.PAYMENTS_VALIDATION_DLQ
    TOPIC_PARTITIONS: int = 3
    # Replicas of the topics faust creates itself (its changelogs); 3 on a 3-broker cluster.
    TOPIC_REPLICATION_FACTOR: int = Field(default=1, ge=1)
    # Standby copies of each table partition on other workers, kept warm from the changelog,
    # so a partition that moves is served again without replaying the whole changelog.
    TABLE_STANDBY_REPLICAS: int = Field(default=1, ge=0)

    DEDUP_RETENTION_SECONDS: int = MIN_DEDUP_RETENTION_SECONDS
    DEDUP_PURGE_INTERVAL_SECONDS: float = 300.0
    DEDUP_MAX_ENTRIES: int = 5_000_000
    # Entries the purge reads (and forgets) between two yields to the event loop: a few
    # milliseconds of work, so heartbeats and batches keep running through a long purge.
    DEDUP_PURGE_SLICE: int = Field(default=2_000, ge=1)
    # A partition with lag whose committed offset has not moved for this long is stalled:
    # /ready fails and names it (both workers).
    STALL_SECONDS: float = Field(default=60.0, gt=0)
    # How long the group waits for a crashed member before its partitions move on: the
    # floor of recovery after a kill -9 (60 s measured at the old default). Heartbeats run
    # on the event loop, so it must stay well above the longest batch.
    BROKER_SESSION_TIMEOUT_SECONDS: float = Field(default=20.0, gt=0)
    # Lets concurrent sends share a produce request instead of one request each.
    PRODUCER_LINGER_SECONDS: float = Field(default=0.005, ge=0)
    # Actors per raw topic; each works a whole batch, so a few keep the broker busy.
    NORMALIZER_CONCURRENCY: int = Field(default=2, ge=1)
    # Events handled (and produced, and acked) together; a batch closes when it is full
    # or when no more events arrive within the window, so a quiet topic waits that long.
    NORMALIZER_BATCH_MAX: int = Field(default=1000, ge=1)
    NORMALIZER_BATCH_WITHIN_SECONDS: float = Field(default=0.02, gt=0)
    # Bigger produce batches: one request carries a whole normalizer batch.
    PRODUCER_MAX_BATCH_BYTES: int = Field(default=512 * 1024, ge=16 * 1024)

    TEMPORAL_TARGET: str = Field(
        default="127.0.0.1:7233",
        validation_alias=AliasChoices("TEMPORAL_TARGET", "STREAMS_TEMPORAL_TARGET"),
    )
    TEMPORAL_NAMESPACE: str = "default"
    TEMPORAL_TASK_QUEUE: str = DEFAULT_TASK_QUEUE
    STARTER_CONCURRENCY: int = Field(default=16, ge=1)
    STARTER_RETRY_MAX_SECONDS: float = Field(default=30.0, gt=0)
    # Payments per PaymentBatchWorkflow (issue 19, streams/batches.py): 1 starts one
    # PaymentEventWorkflow per event, as always; 2..BATCH_MAX_EVENTS gathers up to that many
    # normalized events, or what arrived within the window, into one signal-with-start.
    STARTER_BATCH_SIZE: int = 1
    STARTER_BATCH_WINDOW_SECONDS: float = 0.5
    # Actors gathering the normalized topic's batches in the batched mode. Each gathers its
    # own, so the default 16 of STARTER_CONCURRENCY would split 68 events/s into batches
    # of 2; one actor fills them at any rate (events wait in its buffer while a batch is
    # started), a few more overlap Temporal's round trips at hundreds of events/s.
    STARTER_BATCH_ACTORS: int = 1
    # The gateway's dead letters (authentic but invalid webhooks), carried to review.
    TOPIC_WEBHOOKS_DLQ: str = topics.WEBHOOKS_DLQ

    @property
    def normalized_actors(self) -> int:
        """Actors of the normalized topic's agent: one per in-flight start per event, or
        STARTER_BATCH_ACTORS gatherers in the batched mode."""
        return self.STARTER_CONCURRENCY if self.STARTER_BATCH_SIZE == 1 \
            else self.STARTER_BATCH_ACTORS

    @field_validator("DEDUP_RETENTION_SECONDS")
    @classmethod
    def check_retention(cls, value: int) -> int:
        if value < MIN_DEDUP_RETENTION_SECONDS:
            raise ValueError(
                f"STREAMS_DEDUP_RETENTION_SECONDS must be >= {MIN_DEDUP_RETENTION_SECONDS} "
                "(Stripe retries for 3 days)"
            )
        return value

    @field_validator("STARTER_BATCH_SIZE")
    @classmethod
    def check_batch_size(cls, value: int) -> int:
        if not 1 <= value <= BATCH_MAX_EVENTS:
            raise ValueError(f"STREAMS_STARTER_BATCH_SIZE must be 1 (a workflow per event) to "
                             f"{BATCH_MAX_EVENTS} (contracts.workflows.BATCH_MAX_EVENTS)")
        return value

    @field_validator("STARTER_BATCH_ACTORS")
    @classmethod
    def check_batch_actors(cls, value: int) -> int:
        if value < 1:
            raise ValueError("STREAMS_STARTER_BATCH_ACTORS must be at least 1")
        return value

    @field_validator("STARTER_BATCH_WINDOW_SECONDS")
    @classmethod
    def check_batch_window(cls, value: float) -> float:
        if not 0 < value <= MAX_BATCH_WINDOW_SECONDS:
            raise ValueError(f"STREAMS_STARTER_BATCH_WINDOW_SECONDS must be over 0 and at most "
                             f"{MAX_BATCH_WINDOW_SECONDS:g} seconds")
        return value

    @field_validator("NORMALIZER_PROVIDERS")
    @classmethod
    def check_providers(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        known = contract.PROVIDER_NAMES  # at call time: contracts/providers.py says which exist
        unknown = sorted(set(names) - set(known))
        if unknown or not names:
            raise ValueError(f"STREAMS_NORMALIZER_PROVIDERS must list some of "
                             f"{', '.join(known)}; unknown: {', '.join(unknown)}")
        return ",".join(names)

    @model_validator(mode="after")
    def check_kafka_auth(self) -> _StreamsSettings:
        for app in ("NORMALIZER", "STARTER", "SIMULATOR"):
            self.kafka_auth(app)  # a ValueError names the setting
        return self

    def kafka_auth(self, app: str) -> KafkaAuth:
        """The sign-in of one app: NORMALIZER, STARTER or SIMULATOR."""
        prefix = "" if app == "SIMULATOR" else f"STREAMS_{app}_"
        return sign_in(*(getattr(self, f"{app}_KAFKA_SASL_{part}")
                         for part in ("MECHANISM", "USERNAME", "PASSWORD")), prefix)

    @property
    def normalizer_providers(self) -> frozenset[str]:
        return frozenset(self.NORMALIZER_PROVIDERS.split(","))

    @property
    def raw_topics(self) -> tuple[str, ...]:
        """Every provider's raw topics, as this deployment names them."""
        return tuple(getattr(self, raw_topic_setting(topic)) for topic in contract_raw_topics())

    def broker_url(self) -> str:
        hosts = [h.strip() for h in self.KAFKA_BOOTSTRAP_SERVERS.split(",") if h.strip()]
        return ";".join(f"kafka://{h}" for h in hosts)

    def worker_app_options(self, app_id: str, default_port: int, app: str) -> dict:
        """faust.App keyword arguments every worker of ours shares; ``app`` (NORMALIZER,
        STARTER) names whose Kafka sign-in it uses."""
        return dict(
            broker=self.broker_url(),
            **broker_credentials(self.kafka_auth(app)),
            datadir=str(self.app_datadir(app_id)),
            topic_partitions=self.TOPIC_PARTITIONS,
            topic_replication_factor=self.TOPIC_REPLICATION_FACTOR,
            table_standby_replicas=self.TABLE_STANDBY_REPLICAS,
            # Our topics are created by infra; faust only declares its own changelog topic.
            topic_disable_leader=True,
            consumer_auto_offset_reset="earliest",
            broker_session_timeout=self.BROKER_SESSION_TIMEOUT_SECONDS,
            web_port=self.WEB_PORT or default_port,
            web_bind=self.WEB_HOST,
            web_host=self.WEB_HOST,
            web_router_enabled=False,
            web_tables_enabled=False,
            # faust's default (1,000,000) is under the record budget every topic accepts.
            producer_max_request_size=MAX_RECORD_BYTES,
        )

    def normalizer_app_options(self, app_id: str) -> dict:
        """The normalizer's faust.App keyword arguments (bench/faust_floor.py shares them)."""
        return dict(
            self.worker_app_options(app_id, 6066, "NORMALIZER"),
            store=self.STORE,
            producer_acks=-1,
            producer_linger=self.PRODUCER_LINGER_SECONDS,
            producer_max_batch_size=self.PRODUCER_MAX_BATCH_BYTES,
        )

    def starter_app_options(self, app_id: str) -> dict:
        """The starter's faust.App keyword arguments."""
        return dict(
            self.worker_app_options(app_id, 6067, "STARTER"),
            store="memory://",  # the starter keeps no state; Temporal's workflow ids dedup
            # A start Temporal refuses for good becomes a dead letter: durable before the
            # offset of its event moves on.
            producer_acks=-1,
            # Don't wait at shutdown for events stuck retrying against an absent Temporal:
            # they are unacked, so they are simply redelivered to the next worker.
            stream_wait_empty=False,
        )

    def app_datadir(self, app_id: str) -> Path:
        # Per app id, so two workers (or two test runs) never share a RocksDB directory.
        path = self.DATA_DIR / app_id
        path.parent.mkdir(parents=True, exist_ok=True)  # faust creates only the last level
        return path


def broker_credentials(auth: KafkaAuth) -> dict[str, Any]:
    """faust.App's ``broker_credentials`` for a sign-in (none without SASL)."""
    if not auth.enabled:
        return {}
    import faust

    return {"broker_credentials": faust.SASLCredentials(
        mechanism=auth.mechanism, username=auth.username, password=auth.password)}


def contract_raw_topics() -> tuple[str, ...]:
    """Every provider's raw topics, in the order of contracts.providers.PROVIDER_NAMES."""
    return tuple(topic for name in contract.PROVIDER_NAMES for topic in contract.RAW_TOPICS[name])


def raw_topic_setting(topic: str) -> str:
    """The field that names a raw topic: ``TOPIC_<NAME>``, read as ``STREAMS_TOPIC_<NAME>``."""
    return "TOPIC_" + contract.RAW_TOPIC_NAMES[topic].upper()


def with_raw_topics(base: type[_StreamsSettings]) -> type[_StreamsSettings]:
    """``base`` and a field per raw topic in contracts.providers (as it is when called)."""
    fields: dict = {raw_topic_setting(topic): (str, topic) for topic in contract_raw_topics()}
    return create_model("StreamsSettings", __base__=base, __module__=__name__,
                        __doc__=base.__doc__, **fields)


StreamsSettings = with_raw_topics(_StreamsSettings)
