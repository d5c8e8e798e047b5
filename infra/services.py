"""The pipeline's own services, run as local processes beside the stack's servers.

Each one is a `Server` too: started in its own process group, remembered by PID, and
healthy only when its readiness endpoint (which checks its dependencies) answers 200.

``PIPELINE_LINKS=toxiproxy`` starts them with every link to a server routed through its
own Toxiproxy proxy (``infra.toxiproxy``), for the fault suite; the default is direct.
"""

from __future__ import annotations

import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path

from encryption import KEY_ID_SETTING, KEYS_SETTING, SETTING_NAMES, new_key_entry
from infra import stack_env
from infra.kafka_cluster import bootstrap, replication
from infra.kafka_principals import (
    GATEWAY,
    NORMALIZER,
    OPERATOR,
    PRINCIPALS,
    STARTER,
    Principal,
    kafka_passwords,
    kafka_settings,
)
from infra.kafka_server import configured_nodes
from infra.roles import ADMIN, OWNER, ROLES
from infra.servers import STATE_DIR, VENV_BIN, Server
from infra.worker_counts import Instance, extra_instance_of, instances, worker_counts


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


# The local stack's payload codec key id; rotation adds another (README, "Temporal payload
# encryption").
LOCAL_CODEC_KEY_ID = "local-1"


def _generated_secrets() -> dict[str, str]:
    """Fresh local credentials for every provider the gateway serves, and the key that
    encrypts Temporal payloads (encryption/)."""
    return {
        KEYS_SETTING: new_key_entry(LOCAL_CODEC_KEY_ID),
        KEY_ID_SETTING: LOCAL_CODEC_KEY_ID,
        "GATEWAY_PROVIDERS": "stripe,adyen,braintree,square",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(24)}",
        "ADYEN_HMAC_KEY": secrets.token_hex(32).upper(),
        "ADYEN_BASIC_AUTH_USERNAME": "adyen-demo",
        "ADYEN_BASIC_AUTH_PASSWORD": secrets.token_urlsafe(18),
        "BRAINTREE_MERCHANT_ID": "demo_merchant",
        "BRAINTREE_PUBLIC_KEY": secrets.token_hex(8),
        "BRAINTREE_PRIVATE_KEY": secrets.token_hex(16),
        "SQUARE_SIGNATURE_KEY": secrets.token_urlsafe(24),
        "SQUARE_NOTIFICATION_URL": "http://127.0.0.1:8000/webhooks/square",
    }


def stack_credentials() -> dict[str, str]:
    """Every line of ``.stack/env`` (infra.stack_env): the credentials are made once and
    kept (0600), the PostgreSQL roles' passwords and DSNs, the Kafka principals' sign-ins
    (infra/kafka_principals.py) and the providers' secrets."""
    return stack_env.ensure({**_generated_secrets(), **kafka_passwords()},
                            derive=(kafka_settings,))


# Lines of .stack/env no service reads: the roles' bare passwords, the superuser's and the
# owner's DSNs (the roles step and migrations only), and every Kafka principal's sign-in
# (each service is given its own only: KAFKA_PRINCIPALS).
_NOT_FOR_SERVICES = frozenset({r.password for r in ROLES}
                              | {name for r in (ADMIN, OWNER) for name, _ in r.dsns}
                              | {name for p in PRINCIPALS for name in p.settings})
# The Kafka principal each service signs in as (its extra workers too).
KAFKA_PRINCIPALS: dict[str, Principal] = {"gateway": GATEWAY, "normalizer": NORMALIZER,
                                          "starter": STARTER}


def kafka_environment(service: str) -> dict[str, str]:
    """The three SASL settings of the service's own principal; none for a service that
    does not talk to Kafka."""
    who = KAFKA_PRINCIPALS.get(service.split("-")[0])
    if who is None:
        return {}
    values = stack_credentials()
    return {name: values[name] for name in who.settings}


def operator_environment(*also: Principal) -> dict[str, str]:
    """The operator principal's sign-in (KAFKA_SASL_*: the environment's, else .stack/env's),
    for operators' tools (the simulator, benchmarks); ``also`` repeats it under a service's
    names, for a tool that runs that service on topics or an app id of its own."""
    sign_in = ({name: os.environ[name] for name in OPERATOR.settings}
               if all(os.environ.get(name) for name in OPERATOR.settings)
               else {name: stack_credentials()[name] for name in OPERATOR.settings})
    values = list(sign_in.values())
    env = dict(sign_in)
    for who in also:
        env.update(zip(who.settings, values, strict=True))
    return env


def demo_environment() -> dict[str, str]:
    """Settings every local service shares: each one's DSN and secrets, never the admin's."""
    env = {k: v for k, v in stack_credentials().items() if k not in _NOT_FOR_SERVICES}
    env.setdefault("DAGSTER_HOME", str(STATE_DIR / "dagster"))
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    env.setdefault("STREAMS_DATA_DIR", str(STATE_DIR / "faust"))
    env.update(cluster_environment())
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def codec_environment() -> dict[str, str]:
    """The payload codec's settings every local service, tool and test shares (made once)."""
    env = demo_environment()
    return {name: env[name] for name in SETTING_NAMES}


def cluster_environment() -> dict[str, str]:
    """On a Kafka cluster (STACK_KAFKA_BROKERS > 1): every broker to bootstrap from, and
    faust's own topics as replicated as ours. Nothing on the single-broker default."""
    nodes = configured_nodes()
    if len(nodes) == 1:
        return {}
    return {"KAFKA_BOOTSTRAP_SERVERS": bootstrap(nodes),
            "STREAMS_TOPIC_REPLICATION_FACTOR": str(replication(len(nodes)).factor)}


# The gateway's admin surface (docs, metrics): loopback only, never the webhook port.
GATEWAY_ADMIN_PORT = 8010


class AppService(Server):
    def __init__(self, name: str, argv: list[str], port: int, ready_path: str,
                 env: dict[str, str] | None = None, *, more_ports: tuple[int, ...] = ()) -> None:
        super().__init__(name, (port, *more_ports))
        self.argv = argv
        self.port = port
        self.ready_url = f"http://127.0.0.1:{port}{ready_path}"
        self.extra_env = env or {}

    def start(self) -> None:
        self.spawn(self.argv, env={**demo_environment(), **kafka_environment(self.name),
                                   **self.extra_env, **link_environment(self.name)})

    def running_environment(self) -> dict[str, str]:
        """The environment the running process was started with (empty if not running)."""
        pid = self.read_pid()
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes() if pid else b""
        except OSError:
            return {}
        return dict(item.decode(errors="replace").split("=", 1)
                    for item in raw.split(b"\0") if b"=" in item)

    def runs_with_links_of_this_mode(self) -> bool:
        """Whether the running process points at the proxies exactly when PIPELINE_LINKS asks."""
        from infra.toxiproxy import service_environment

        running = self.running_environment()
        # Direct mode: what start() gives it (this environment, then .stack/env's DSNs).
        direct = {**os.environ, **demo_environment(), **self.extra_env}
        wanted = {**{k: direct.get(k) for k in service_environment(self.name)},
                  **link_environment(self.name)}
        return all(running.get(k) == v for k, v in wanted.items())

    def healthy(self) -> bool:
        return http_ok(self.ready_url)

    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def link_environment(service: str) -> dict[str, str]:
    """The settings that send a service's links through Toxiproxy, in that mode only."""
    if os.environ.get("PIPELINE_LINKS", "direct") != "toxiproxy":
        return {}
    from infra.toxiproxy import service_environment

    return service_environment(service)


def _bin(name: str) -> str:
    return str(VENV_BIN / name)


def all_services() -> list[AppService]:
    """Every service of the stack, with as many workers as DEMO_WORKERS asks for, and any
    extra worker still running from an earlier run (so that `make down` stops it too)."""
    counts = worker_counts(os.environ)
    for pid_file in (STATE_DIR / "pids").glob("*.pid"):
        if (extra := extra_instance_of(pid_file.stem)) is not None:
            counts[extra.service] = max(counts[extra.service], extra.number)
    services = []
    for service in _first_instances():
        services.append(service)
        for instance in instances(service.name, counts.get(service.name, 1))[1:]:
            services.append(_another(service, instance))
    return services


def _another(first: AppService, instance: Instance) -> AppService:
    """The n-th worker of a service: its own port (health and faust web views) and, for
    faust, its own data directory."""
    port = instance.port(first.port)
    own = ({"ORCHESTRATOR_HEALTH_PORT": str(port)} if first.name == "orchestration-worker"
           else {"STREAMS_WEB_PORT": str(port),
                 "STREAMS_DATA_DIR": str(STATE_DIR / f"faust-{instance.number}")})
    return AppService(instance.name, first.argv, port, "/ready", {**first.extra_env, **own})


def _first_instances() -> list[AppService]:
    py = _bin("python")
    return [
        AppService("inference", [_bin("uvicorn"), "inference.app:app", "--host", "127.0.0.1",
                                 "--port", "8002"], 8002, "/ready"),
        AppService("orchestration-worker", [py, "-m", "orchestration.worker"], 6068, "/ready"),
        AppService("normalizer", [_bin("faust"), "-A", "streams.normalizer", "worker",
                                  "-l", "info"], 6066, "/ready"),
        AppService("starter", [_bin("faust"), "-A", "streams.starter", "worker", "-l", "info"],
                   6067, "/ready"),
        AppService("gateway", [_bin("uvicorn"), "gateway.app:app", "--host", "127.0.0.1",
                               "--port", "8000"], 8000, "/ready",
                   env={"GATEWAY_ADMIN_HOST": "127.0.0.1",
                        "GATEWAY_ADMIN_PORT": str(GATEWAY_ADMIN_PORT)},
                   more_ports=(GATEWAY_ADMIN_PORT,)),
        AppService("dagster", [_bin("dagster"), "dev", "-m", "batch.definitions",
                               "-h", "127.0.0.1", "-p", "3000"], 3000, "/server_info",
                   env={"DAGSTER_HOME": os.environ.get("DAGSTER_HOME",
                                                       str(STATE_DIR / "dagster"))}),
    ]
