"""PostgreSQL, a cluster of the machine's binaries, as a server of the local stack."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from infra.servers import (
    POSTGRES_PORT,
    STATE_DIR,
    Server,
    StackError,
    is_port_open,
    pid_alive,
    terminate_group,
)

# Every connection, over TCP or the socket, proves its role's password (SCRAM): no trust.
HBA = """\
# Written by infra/postgres_server.py: every connection signs in with its role's password.
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128 scram-sha-256
"""


class Postgres(Server):
    """A throwaway PostgreSQL cluster from the machine's binaries, with password sign-in.

    The superuser's password (``POSTGRES_ADMIN_PASSWORD`` in ``.stack/env``) is set by
    initdb. A cluster made before passwords (pg_hba ``trust``) starts as it is; the stack
    then sets every role's password and ``secure`` puts ``HBA`` in place.
    """

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
            self._initdb(bindir)
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

    def _initdb(self, bindir: Path) -> None:
        from infra.stack_env import setting

        # initdb reads the superuser's password from a file only its user can read.
        pwfile = self.home / "initdb.pw"
        pwfile.write_text(setting("POSTGRES_ADMIN_PASSWORD", environment=False) + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        try:
            subprocess.run(
                self._as_owner([str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                                "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                                "--no-locale"]),
                check=True, capture_output=True, text=True,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_hba()

    def _write_hba(self) -> None:
        hba = self.data / "pg_hba.conf"
        hba.write_text(HBA)
        hba.chmod(0o600)
        self._chown(hba)

    def secure(self) -> bool:
        """Put ``HBA`` in place and reload the server, if it is not in place already. Call
        once every role has its password. True if it changed."""
        if (self.data / "pg_hba.conf").read_text() == HBA:
            return False
        self._write_hba()
        subprocess.run(self._as_owner([str(self.bindir() / "pg_ctl"), "-D", str(self.data),
                                       "reload"]), check=True, capture_output=True)
        return True

    def healthy(self) -> bool:
        if not is_port_open(POSTGRES_PORT):
            return False
        import asyncpg

        from infra.probes import postgres_ready
        from infra.stack_env import ENV_FILE, setting

        try:
            return postgres_ready(POSTGRES_PORT,
                                  setting("POSTGRES_ADMIN_PASSWORD", environment=False))
        except (asyncpg.InvalidPasswordError,
                asyncpg.InvalidAuthorizationSpecificationError) as err:
            raise StackError(f"postgres: the cluster in {self.data} refuses the superuser's "
                             f"password, POSTGRES_ADMIN_PASSWORD in {ENV_FILE} ({err}); put "
                             "back the file it was made with, or `make clean`") from None

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
        from infra.stack_env import ENV_FILE

        return f"postgresql://127.0.0.1:{POSTGRES_PORT}/payments  (roles' DSNs in {ENV_FILE})"
