"""What the local stack's servers share: their ports, their state folder, and ``Server``.

Each server (how it is installed, started, probed and stopped) has its own module:
``infra.kafka_server``, ``infra.temporal_server``, ``infra.postgres_server``;
``infra.stack.all_servers()`` lists them. Every server binds 127.0.0.1 and keeps its state
and log under one folder (``.stack/``). Each is started in its own process group and
remembered by PID, so ``down`` stops exactly what ``up`` started and nothing else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("STACK_DIR", REPO_ROOT / ".stack")).resolve()
VENV_BIN = Path(sys.executable).parent

KAFKA_PORT = int(os.environ.get("KAFKA_PORT", "9092"))
KAFKA_CONTROLLER_PORT = int(os.environ.get("KAFKA_CONTROLLER_PORT", "9093"))
TEMPORAL_PORT = int(os.environ.get("TEMPORAL_PORT", "7233"))
TEMPORAL_UI_PORT = int(os.environ.get("TEMPORAL_UI_PORT", "8233"))
POSTGRES_PORT = int(os.environ.get("POSTGRES_PORT", "55432"))


class StackError(RuntimeError):
    """A server could not be installed, started or stopped; the message says which and why."""


def is_port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(predicate, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    hint = f"; see {log}" if log else ""
    raise StackError(f"{what} did not become healthy within {timeout:.0f}s{hint}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is not running.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state != "Z"


@dataclass
class Server:
    """A server process that the stack owns, remembered by the PID file it writes."""

    name: str
    ports: tuple[int, ...]
    log_name: str = ""
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pid_file(self) -> Path:
        return STATE_DIR / "pids" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return STATE_DIR / "logs" / f"{self.log_name or self.name}.log"

    def read_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def is_running(self) -> bool:
        return self.read_pid() is not None

    def spawn(self, argv: list[str], env: dict[str, str] | None = None) -> int:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        busy = [p for p in self.ports if is_port_open(p)]
        if busy:
            raise StackError(
                f"{self.name}: port(s) {busy} already in use by a process the stack did not start"
            )
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                cwd=REPO_ROOT,
                start_new_session=True,
            )
        self._proc = proc
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def died_early(self) -> bool:
        return self._proc is not None and self._proc.poll() is not None

    def stop(self, timeout: float = 30.0) -> None:
        pid = self.read_pid()
        if pid is not None:
            terminate_group(pid, timeout)
        self.pid_file.unlink(missing_ok=True)

    def start(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def healthy(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def address(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


def terminate_group(pid: int, timeout: float) -> None:
    """SIGTERM the process group, then SIGKILL it if it outlives ``timeout``."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        while pid_alive(pid):
            time.sleep(0.05)
