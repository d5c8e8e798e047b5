"""Apache Kafka in KRaft mode as servers of the local stack: one node per broker
(infra/kafka_cluster.py says how many, on which ports, with how many replicas)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from contracts.limits import MAX_RECORD_BYTES
from infra.kafka_cluster import (
    ClusterConfigError,
    KafkaNode,
    bootstrap,
    broker_count,
    cluster_nodes,
    quorum_voters,
    replication,
)
from infra.kafka_principals import BROKER, scram_format_argument
from infra.servers import (
    KAFKA_CONTROLLER_PORT,
    KAFKA_PORT,
    REPO_ROOT,
    STATE_DIR,
    Server,
    StackError,
    is_port_open,
)
from infra.toxiproxy import kafka_listener_names, kafka_listener_ports, kafka_listeners

NO_PROXY_LISTENERS = {"KAFKA_PROXY_LISTENERS": "", "KAFKA_PROXY_ADVERTISED": "",
                      "KAFKA_PROXY_PROTOCOLS": ""}


def configured_nodes() -> tuple[KafkaNode, ...]:
    """The nodes STACK_KAFKA_BROKERS asks for; a bad value stops the stack naming it."""
    try:
        count = broker_count()
    except ClusterConfigError as exc:
        raise StackError(str(exc)) from None
    return cluster_nodes(count, KAFKA_PORT, KAFKA_CONTROLLER_PORT)


def cluster_bootstrap() -> str:
    """Every broker of the configured cluster, for clients that must outlive one of them."""
    return bootstrap(configured_nodes())


def scram_jaas_lines(listeners: tuple[str, ...], password: str) -> str:
    """Each SCRAM listener's JAAS line: the broker signs in to the other brokers with it
    (and a SASL listener must have one to accept any client)."""
    return "\n".join(
        f"listener.name.{name.lower()}.scram-sha-512.sasl.jaas.config="
        f"org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{BROKER.name}" password="{password}";' for name in listeners)


def kafka_server_properties(data_dir: Path, node: KafkaNode | None = None,
                            nodes: tuple[KafkaNode, ...] | None = None,
                            broker_password: str = "unset-broker-password") -> str:
    """A node's server.properties, rendered from the template in infra/kafka/ (by default
    the single broker's); ``broker_password`` is the brokers' own principal's (.stack/env's
    BROKER_KAFKA_SASL_PASSWORD)."""
    nodes = nodes or cluster_nodes(1, KAFKA_PORT, KAFKA_CONTROLLER_PORT)
    node = node or nodes[0]
    copies = replication(len(nodes))
    template = (REPO_ROOT / "infra/kafka/server.properties.template").read_text()
    values = {
        "KAFKA_NODE_ID": str(node.node_id),
        "KAFKA_PORT": str(node.port),
        "KAFKA_CONTROLLER_PORT": str(node.controller_port),
        "KAFKA_QUORUM_VOTERS": quorum_voters(nodes),
        "KAFKA_REPLICATION_FACTOR": str(copies.factor),
        "KAFKA_MIN_INSYNC": str(copies.min_insync),
        "KAFKA_LOG_DIRS": str(data_dir),
        "KAFKA_MESSAGE_MAX_BYTES": str(MAX_RECORD_BYTES),
        **(kafka_listeners() if node.proxied else NO_PROXY_LISTENERS),
        "KAFKA_BROKER_PASSWORD": broker_password,
        "KAFKA_SCRAM_JAAS": scram_jaas_lines(
            ("CLIENT", *(kafka_listener_names() if node.proxied else ())), broker_password),
    }
    for key, value in values.items():
        template = template.replace("${" + key + "}", value)
    return template


def kafka_servers() -> list[Kafka]:
    """One server per node of the configured cluster, the first named ``kafka``."""
    nodes = configured_nodes()
    return [Kafka(node, nodes) for node in nodes]


class Kafka(Server):
    """One Apache Kafka node in KRaft mode, on jars resolved from Maven Central."""

    def __init__(self, node: KafkaNode | None = None,
                 nodes: tuple[KafkaNode, ...] | None = None) -> None:
        self.nodes = nodes or configured_nodes()
        self.node = node or self.nodes[0]
        proxy_ports = kafka_listener_ports() if self.node.proxied else ()
        super().__init__(self.node.name, (self.node.port, self.node.controller_port,
                                          *proxy_ports))
        self.home = STATE_DIR / self.node.name
        # Shared across nodes and stacks (tests start a second one on other ports) to fetch
        # the jars once.
        self.lib = Path(os.environ.get("KAFKA_LIB_DIR", STATE_DIR / "kafka" / "lib")).resolve()
        self.data = self.home / "data"
        self.config = self.home / "server.properties"
        # What every node of one cluster shares: its id, and how many nodes it was made with.
        self.cluster_file = STATE_DIR / "kafka" / "cluster"

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

    def _broker_password(self) -> str:
        from infra.stack_env import setting

        return setting(BROKER.password_setting, environment=False)

    def _render_config(self) -> None:
        # It holds the broker's password: readable by its owner only.
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(kafka_server_properties(self.data, self.node, self.nodes,
                                              self._broker_password()))

    def _cluster_id(self) -> str:
        """The id every node formats with, made once; refuses a stack made with another
        number of brokers, whose stored data would never form a quorum with this one."""
        first_data = STATE_DIR / "kafka" / "data" / "meta.properties"
        if self.cluster_file.exists() or first_data.exists():
            # A stack from before the file was kept is a formatted single broker.
            cluster_id, made_with = (self.cluster_file.read_text().split()
                                     if self.cluster_file.exists() else ("", "1"))
            if int(made_with) != len(self.nodes):
                raise StackError(
                    f"STACK_KAFKA_BROKERS={len(self.nodes)}, but this stack's Kafka data was "
                    f"made with {made_with} broker(s); run `make clean` to start afresh")
            return cluster_id
        cluster_id = subprocess.run(
            self._java("kafka.tools.StorageTool", "random-uuid"),
            check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]
        self.cluster_file.parent.mkdir(parents=True, exist_ok=True)
        self.cluster_file.write_text(f"{cluster_id} {len(self.nodes)}\n")
        return cluster_id

    def _format_storage(self) -> None:
        cluster_id = self._cluster_id()
        if (self.data / "meta.properties").exists():
            return
        subprocess.run(
            # The brokers' own SCRAM credential is in the metadata from the start: they sign
            # in to each other with it, and the stack's admin steps (infra/kafka_acls.py)
            # add every other principal's with it.
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id,
                       "-c", str(self.config), "--ignore-formatted",
                       "--add-scram", scram_format_argument(self._broker_password())),
            check=True, capture_output=True, text=True,
        )

    def start(self) -> None:
        self.install()
        self.home.mkdir(parents=True, exist_ok=True)
        self._render_config()
        self._format_storage()
        logs = STATE_DIR / "logs" / self.node.name
        logs.mkdir(parents=True, exist_ok=True)
        heap = tuple(os.environ.get("KAFKA_HEAP_OPTS", "-Xms256m -Xmx768m").split())
        jvm_options = heap + (
            "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={logs}",
            f"-Dlog4j.configuration=file:{REPO_ROOT / 'infra/kafka/log4j.properties'}",
        )
        self.spawn(self._java("kafka.Kafka", str(self.config), jvm_options=jvm_options))

    def healthy(self) -> bool:
        if not is_port_open(self.node.port):
            return False
        from infra.kafka_acls import broker_auth
        from infra.stack_env import read
        from infra.topics import broker_ready

        return broker_ready(f"127.0.0.1:{self.node.port}", broker_auth(read()))

    def address(self) -> str:
        return f"kafka://127.0.0.1:{self.node.port}"
