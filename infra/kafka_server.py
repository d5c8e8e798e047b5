"""Apache Kafka in KRaft mode, one broker, as a server of the local stack."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from contracts.limits import MAX_RECORD_BYTES
from infra.servers import (
    KAFKA_CONTROLLER_PORT,
    KAFKA_PORT,
    REPO_ROOT,
    STATE_DIR,
    Server,
    StackError,
    is_port_open,
)
from infra.toxiproxy import kafka_listener_ports, kafka_listeners


def kafka_server_properties(data_dir: Path) -> str:
    """The broker's server.properties, rendered from the template in infra/kafka/."""
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
