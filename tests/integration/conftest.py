"""Fixtures shared by the integration tests of several folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from infra.servers import STATE_DIR
from tests.private_kafka import PRIVATE_CONTROLLER, PRIVATE_PORT


@pytest.fixture
def private_cluster(unique, stack):
    """``run(verb)`` runs ``python -m infra.stack <verb> kafka`` for a private three-broker
    KRaft cluster (clients on PRIVATE_BOOTSTRAP) in its own state folder, so the stack the
    rest of the suite uses is never disturbed; yields (run, state folder). Down after."""
    state = STATE_DIR / f"test-cluster-{unique}"
    env = {**os.environ, "STACK_KAFKA_BROKERS": "3", "KAFKA_PORT": str(PRIVATE_PORT),
           "KAFKA_MULTI_CONTROLLER_PORT": str(PRIVATE_CONTROLLER), "STACK_DIR": str(state),
           # The stack's jars, already resolved: no second download.
           "KAFKA_LIB_DIR": str(STATE_DIR / "kafka" / "lib"),
           "KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "infra.stack", *args, "kafka"], env=env,
                              capture_output=True, text=True, timeout=300)

    # The shared stack's credentials (.stack/env): the private brokers then take the
    # operator sign-in every test client and faust worker already holds.
    state.mkdir(parents=True, exist_ok=True)
    shutil.copy(STATE_DIR / "env", state / "env")
    yield run, state
    run("down")
    shutil.rmtree(state, ignore_errors=True)
