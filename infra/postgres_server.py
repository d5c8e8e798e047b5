"""PostgreSQL, a cluster of the machine's binaries, as a server of the local stack."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from infra.servers import (
    POSTGRES_DSN,
    POSTGRES_PORT,
    STATE_DIR,
    Server,
    StackError,
    is_port_open,
    pid_alive,
    terminate_group,
)


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
            terminate_group(pid, 5)

    def address(self) -> str:
        return f"{POSTGRES_DSN}"
