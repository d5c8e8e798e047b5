"""Toxiproxy between each service and each server it talks to, for the fault suite.

One proxy per link (gateway->kafka, worker->postgres, ...), so a partition or added
latency hits exactly one link. Toxiproxy (github.com/Shopify/toxiproxy, a Go module
installed by ``make toxiproxy``) runs on 127.0.0.1 and is driven through its HTTP API.

Kafka clients follow the broker's advertised listeners after their first metadata call,
so a client bootstrapped through a proxy would otherwise reconnect straight to 9092. The
broker therefore has one extra listener per proxied client (127.0.0.1:KAFKA_PORT+10x), advertised
as that client's proxy (127.0.0.1:291xx): the client's metadata points back at its proxy.

Services use these links only when started with ``PIPELINE_LINKS=toxiproxy`` (see
``infra.services``); ``make demo`` and ``make test`` defaults stay direct.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from infra.servers import KAFKA_PORT, POSTGRES_PORT, TEMPORAL_PORT, Server, is_port_open

API_PORT = int(os.environ.get("TOXIPROXY_PORT", "8474"))
API_URL = f"http://127.0.0.1:{API_PORT}"


@dataclass(frozen=True, slots=True)
class Link:
    """One service's connection to one server, through its own proxy."""

    service: str
    server: str
    proxy_port: int  # where the service connects
    upstream_port: int  # where the proxy connects
    # The service's settings that point it at the proxy. An empty value stands for the
    # setting's DSN in .stack/env (it holds a password), with the proxy's port.
    env: tuple[tuple[str, str], ...]
    kafka_listener: str | None = None  # the broker listener advertised as this proxy

    @property
    def name(self) -> str:
        return f"{self.service}->{self.server}"

    @property
    def proxy_name(self) -> str:
        return f"{self.service}-{self.server}"


def _kafka_link(service: str, n: int) -> Link:
    # aiokafka and faust both read KAFKA_BOOTSTRAP_SERVERS (the first alias of the streams
    # setting), so one variable points each client at its proxy. The listener sits beside
    # KAFKA_PORT, so a second stack on other ports (the lifecycle test) gets its own.
    return Link(service, "kafka", 29100 + n, KAFKA_PORT + 100 + n,
                (("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{29100 + n}"),),
                kafka_listener=f"VIA_{service.upper()}")


LINKS: tuple[Link, ...] = (
    _kafka_link("gateway", 1),
    _kafka_link("normalizer", 2),
    _kafka_link("starter", 3),
    Link("starter", "temporal", 29111, TEMPORAL_PORT,
         (("TEMPORAL_TARGET", "127.0.0.1:29111"),)),
    Link("orchestration-worker", "temporal", 29112, TEMPORAL_PORT,
         (("ORCHESTRATOR_TEMPORAL_TARGET", "127.0.0.1:29112"),)),
    Link("orchestration-worker", "postgres", 29121, POSTGRES_PORT,
         (("ORCHESTRATOR_POSTGRES_DSN", ""),)),
    Link("orchestration-worker", "inference", 29131, 8002,
         (("ORCHESTRATOR_INFERENCE_URL", "http://127.0.0.1:29131"),)),
)


def link(name: str) -> Link:
    for candidate in LINKS:
        if name in (candidate.name, candidate.proxy_name):
            return candidate
    raise KeyError(name)


def service_environment(service: str) -> dict[str, str]:
    """The settings that route one service's links through their proxies."""
    return {k: v or _via(lk, k) for lk in LINKS if lk.service == service for k, v in lk.env}


def _via(lk: Link, name: str) -> str:
    from infra.stack_env import setting

    url = urlsplit(setting(name, environment=False))  # what the stack gives the service
    return urlunsplit(url._replace(netloc=f"{url.netloc.rsplit('@', 1)[0]}@127.0.0.1:"
                                          f"{lk.proxy_port}"))


def kafka_listeners() -> dict[str, str]:
    """Template values for the broker: the extra listeners, their adverts and protocols."""
    kafka = [lk for lk in LINKS if lk.kafka_listener]
    return {
        "KAFKA_PROXY_LISTENERS": "".join(
            f",{lk.kafka_listener}://127.0.0.1:{lk.upstream_port}" for lk in kafka),
        "KAFKA_PROXY_ADVERTISED": "".join(
            f",{lk.kafka_listener}://127.0.0.1:{lk.proxy_port}" for lk in kafka),
        # Signed in like the broker's own client listener: a proxy is no way around SASL.
        "KAFKA_PROXY_PROTOCOLS": "".join(f",{lk.kafka_listener}:SASL_PLAINTEXT"
                                         for lk in kafka),
    }


def kafka_listener_names() -> tuple[str, ...]:
    return tuple(lk.kafka_listener for lk in LINKS if lk.kafka_listener)


def kafka_listener_ports() -> tuple[int, ...]:
    return tuple(lk.upstream_port for lk in LINKS if lk.kafka_listener)


def direct_connections(pids: set[int]) -> list[str]:
    """Established connections from these processes that bypass their proxies: to a
    server's own port, for a server that the process's links route through Toxiproxy."""
    listing = subprocess.run(["ss", "-tnpH", "state", "established"], capture_output=True,
                             text=True, check=True).stdout
    direct_ports = {KAFKA_PORT} | {lk.upstream_port for lk in LINKS}
    leaks = []
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) < 5 or "pid=" not in line:
            continue
        owner = {int(part.split("=")[1].split(",")[0]) for part in fields[-1].split("pid")[1:]}
        peer_port = int(fields[3].rsplit(":", 1)[1])
        if owner & pids and peer_port in direct_ports:
            leaks.append(f"{fields[2]} -> {fields[3]} ({fields[-1]})")
    return leaks


def server_binary() -> Path:
    """`server` from `go install github.com/Shopify/toxiproxy/v2/cmd/server` (GOPATH/bin)."""
    if env := os.environ.get("TOXIPROXY_SERVER"):
        return Path(env)
    go = shutil.which("go") or "/usr/local/go/bin/go"
    try:
        gopath = subprocess.run([go, "env", "GOPATH"], check=True, capture_output=True,
                                text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        gopath = str(Path.home() / "go")
    return Path(gopath) / "bin" / "server"


class Toxiproxy(Server):
    """The Toxiproxy server, in the stack's state folder like the other servers."""

    def __init__(self) -> None:
        super().__init__("toxiproxy", (API_PORT,))

    def start(self) -> None:
        binary = server_binary()
        if not binary.exists():
            raise FileNotFoundError(f"toxiproxy: {binary} missing; run `make toxiproxy`")
        self.spawn([str(binary), "-host", "127.0.0.1", "-port", str(API_PORT)])

    def healthy(self) -> bool:
        if not is_port_open(API_PORT):
            return False
        try:
            return httpx.get(f"{API_URL}/version", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def address(self) -> str:
        return API_URL


class ToxiproxyClient:
    """The few calls of Toxiproxy's HTTP API the fault suite needs."""

    def __init__(self, url: str = API_URL) -> None:
        self._http = httpx.Client(base_url=url, timeout=10)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response

    def create_proxies(self, links: tuple[Link, ...] = LINKS) -> None:
        """One proxy per link, enabled and without toxics (idempotent, via /populate)."""
        self._call("POST", "/populate", json=[
            {"name": lk.proxy_name, "listen": f"127.0.0.1:{lk.proxy_port}",
             "upstream": f"127.0.0.1:{lk.upstream_port}", "enabled": True} for lk in links])
        self.reset()

    def reset(self) -> None:
        """Every proxy enabled, every toxic removed."""
        self._call("POST", "/reset")

    def toxics(self, lk: Link) -> list[dict]:
        return self._call("GET", f"/proxies/{lk.proxy_name}/toxics").json()

    def add_toxic(self, lk: Link, kind: str, stream: str, **attributes: int) -> None:
        self._call("POST", f"/proxies/{lk.proxy_name}/toxics", json={
            "name": f"{kind}_{stream}", "type": kind, "stream": stream, "toxicity": 1.0,
            "attributes": attributes})

    def remove_toxics(self, lk: Link) -> None:
        for toxic in self.toxics(lk):
            self._call("DELETE", f"/proxies/{lk.proxy_name}/toxics/{toxic['name']}")

    def set_enabled(self, lk: Link, enabled: bool) -> None:
        self._call("POST", f"/proxies/{lk.proxy_name}", json={"enabled": enabled})

    def partition(self, lk: Link) -> None:
        """Blackhole the link both ways: connections stay open, nothing gets through."""
        for stream in ("upstream", "downstream"):
            self.add_toxic(lk, "timeout", stream, timeout=0)

    def heal_partition(self, lk: Link) -> None:
        """End a partition: the blackholed connections are closed, then traffic flows.

        Toxiproxy's timeout toxic drops what it held, so a connection that lived through it
        has lost bytes mid-stream; closing it (disable, then enable) is what a peer whose
        requests timed out during a real partition ends up doing anyway.
        """
        self.set_enabled(lk, False)
        self.remove_toxics(lk)
        self.set_enabled(lk, True)

    def add_latency(self, lk: Link, ms: int) -> None:
        """Delay every response on the link by `ms` (one extra `ms` per round trip)."""
        self.add_toxic(lk, "latency", "downstream", latency=ms, jitter=0)
