"""The local stack: `python -m infra.stack up|down|status [server ...]`.

`up` is idempotent: it starts what is not running, waits for each server to answer a
real request, creates the database, applies migrations, creates the topics, and prints
the addresses. `down` stops exactly what `up` started, by PID, and checks that no port
of ours is left open.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import sys

from infra.kafka_cluster import bootstrap, replication
from infra.kafka_server import Kafka, kafka_servers
from infra.postgres_server import Postgres
from infra.servers import (
    STATE_DIR,
    Server,
    StackError,
    is_port_open,
    wait_until,
)
from infra.stack_env import ENV_FILE
from infra.temporal_server import Temporal
from telemetry import exit_after_flush

HEALTH_TIMEOUT_S = {"kafka": 120.0, "temporal": 90.0, "postgres": 60.0}


def all_servers() -> list[Server]:
    """The stack's servers in start order: PostgreSQL, Kafka's nodes, Temporal."""
    return [Postgres(), *kafka_servers(), Temporal()]


def _select(names: list[str]) -> list[Server]:
    servers = all_servers()
    if not names:
        return servers
    # "kafka" is the whole cluster: one node of several never forms a quorum alone.
    wanted = set(names) | ({s.name for s in servers if isinstance(s, Kafka)}
                           if "kafka" in names else set())
    unknown = set(names) - {s.name for s in servers}
    if unknown:
        raise StackError(f"unknown server(s): {', '.join(sorted(unknown))}")
    return [s for s in servers if s.name in wanted]


async def _prepare_database(server: Postgres) -> None:
    """Roles and their passwords (as the superuser), password sign-in only, then the
    migrations and grants (as the owner); every step is idempotent."""
    from infra.migrate import migrate
    from infra.roles import ADMIN, ROLES, apply_roles
    from infra.stack_env import read

    values = read()  # this stack's own file, never the environment's values
    await apply_roles(values[ADMIN.dsns[0][0]], {r.password: values[r.password] for r in ROLES})
    if server.secure():
        print("postgres: every connection now signs in with its role's password")
    for migration in await migrate(values["MIGRATE_POSTGRES_DSN"]):
        print(f"postgres: applied migration {migration.version:03d}_{migration.name}")


def _after_healthy(server: Server) -> None:
    if isinstance(server, Postgres):
        asyncio.run(_prepare_database(server))
    elif isinstance(server, Kafka) and server.node == server.nodes[-1]:
        # The last node is healthy, so the whole cluster is: now its principals can have
        # their credentials and ACLs, and its topics their replicas (as the brokers' own
        # principal, the one super user).
        from infra.kafka_acls import apply_principals, broker_auth
        from infra.stack_env import read
        from infra.topics import ensure_topics

        values = read()  # this stack's own file, never the environment's values
        admin = broker_auth(values)
        asyncio.run(apply_principals(bootstrap(server.nodes), admin, values))
        print("kafka: every principal's credential and ACLs set (infra/kafka_principals.py)")
        created = asyncio.run(ensure_topics(bootstrap(server.nodes),
                                            copies=replication(len(server.nodes)), auth=admin))
        if created:
            print(f"kafka: created topics {', '.join(created)}")


def up(names: list[str]) -> None:
    from infra.services import stack_credentials

    # Every credential first: initdb takes the superuser's password from the file.
    stack_credentials()
    servers = _select(names)
    started: list[Server] = []
    for server in servers:
        if server.is_running():
            continue
        print(f"{server.name}: starting (log {server.log_file})", flush=True)
        server.start()
        started.append(server)
    for server in servers:
        timeout = HEALTH_TIMEOUT_S.get(server.name, 60.0)

        def healthy_or_dead(s: Server = server) -> bool:
            if s.died_early():
                raise StackError(f"{s.name} exited during start-up; see {s.log_file}")
            return s.healthy()

        wait_until(healthy_or_dead, timeout, server.name, server.log_file)
        _after_healthy(server)
        print(f"{server.name:9} up   {server.address()}", flush=True)
    print(f"{'env':9} {ENV_FILE}  (every credential; set -a; . {ENV_FILE}; set +a)")


def down(names: list[str]) -> None:
    from infra.services import all_services

    servers = _select(names)
    # The pipeline's own services (started by `make demo`) go first: they use the servers.
    services = [] if names else [s for s in all_services() if s.is_running()]
    for server in [*reversed(services), *reversed(servers)]:
        if server.is_running():
            print(f"{server.name}: stopping", flush=True)
        server.stop()
    left = [(s.name, p) for s in services + servers for p in s.ports if is_port_open(p)]
    if left:
        raise StackError(f"ports still open after down: {left}")


def status(names: list[str]) -> int:
    code = 0
    for server in _select(names):
        pid = server.read_pid()
        if pid is None:
            state, code = "down", 3
        elif server.healthy():
            state = f"up (pid {pid})"
        else:
            state, code = f"unhealthy (pid {pid})", 3
        print(f"{server.name:9} {state:22} {server.address()}")
    print(f"{'env':9} {'present' if ENV_FILE.exists() else 'missing':22} {ENV_FILE}")
    kafka = [s for s in _select(names) if isinstance(s, Kafka)]
    if code == 0 and len(kafka) > 1:
        from infra.kafka_acls import broker_auth
        from infra.stack_env import read
        from infra.topics import describe_leaders

        print(describe_leaders(bootstrap(kafka[0].nodes), auth=broker_auth(read())))
    return code


@contextlib.contextmanager
def _exclusive():
    """One `up` or `down` at a time: two at once would both format Kafka's storage."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(STATE_DIR / "stack.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The local stack of real servers.")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("servers", nargs="*", help="kafka, temporal, postgres (default: all)")
    args = parser.parse_args(argv)
    try:
        with _exclusive():
            if args.command == "up":
                up(args.servers)
            elif args.command == "down":
                down(args.servers)
            else:
                return status(args.servers)
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    exit_after_flush(main())
