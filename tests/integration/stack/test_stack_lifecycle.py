"""`make up` twice is harmless and `make down` leaves no process or port of ours.

This runs a second, private stack on other ports and in its own state folder, so the
stack the rest of the suite uses is never disturbed.
"""

import os
import shutil
import subprocess
import sys

import pytest

from infra.servers import STATE_DIR, is_port_open, pid_alive

PORTS = {
    "KAFKA_PORT": 19092, "KAFKA_CONTROLLER_PORT": 19093,
    "TEMPORAL_PORT": 17233, "TEMPORAL_UI_PORT": 18233, "POSTGRES_PORT": 56432,
}


@pytest.fixture
def private_stack(unique, stack):
    state = STATE_DIR / f"test-stack-{unique}"
    env = {
        **os.environ, **{k: str(v) for k, v in PORTS.items()},
        "STACK_DIR": str(state), "KAFKA_LIB_DIR": str(STATE_DIR / "kafka" / "lib"),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "infra.stack", *args], env=env,
                              capture_output=True, text=True, timeout=240)

    yield run, state
    run("down")
    shutil.rmtree(state, ignore_errors=True)


def read_pids(state):
    pids = {p.stem: int(p.read_text()) for p in (state / "pids").glob("*.pid")}
    pids["postgres"] = int((state / "postgres/data/postmaster.pid").read_text().split()[0])
    return pids


def test_up_twice_is_harmless_and_down_leaves_nothing(private_stack):
    run, state = private_stack

    first = run("up")
    assert first.returncode == 0, first.stderr
    pids = read_pids(state)
    second = run("up")
    assert second.returncode == 0, second.stderr
    assert read_pids(state) == pids
    assert "starting" not in second.stdout
    assert run("status").returncode == 0

    down = run("down")

    assert down.returncode == 0, down.stderr
    assert not [name for name, pid in pids.items() if pid_alive(pid)]
    assert not [port for port in PORTS.values() if is_port_open(port)]
    assert run("status").returncode != 0


def test_a_postgres_that_will_not_start_is_explained_from_its_own_log(private_stack):
    run, state = private_stack
    assert run("up", "postgres").returncode == 0
    assert run("down", "postgres").returncode == 0
    conf = state / "postgres/data/postgresql.conf"
    conf.write_text(conf.read_text() + "\nthis is not a setting\n")

    refused = run("up", "postgres")

    assert refused.returncode == 1
    assert "pg_ctl start failed" in refused.stderr
    assert "syntax error" in refused.stderr  # the server log's reason, not just pg_ctl's
