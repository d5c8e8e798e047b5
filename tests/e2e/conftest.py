"""The whole pipeline as local processes: every service of `make demo`, on the real stack."""

import os

import pytest

from infra import stack
from infra.demo import start_services
from infra.kafka_server import Kafka
from infra.servers import is_port_open, wait_until
from infra.services import all_services
from infra.toxiproxy import (
    LINKS,
    Toxiproxy,
    ToxiproxyClient,
    direct_connections,
    kafka_listener_ports,
)


@pytest.fixture(scope="package")
def pipeline(stack):
    """Start every service (idempotent); stop the ones started here once e2e is done, so
    they do not compete with the integration tests for the two cores."""
    services = all_services()
    started_here = [s for s in services if not s.is_running()]
    start_services(services)
    yield {s.name: s for s in services}
    for service in reversed(started_here):
        service.stop()


def _restart_in_current_mode() -> list[str]:
    """Restart the services whose links do not match PIPELINE_LINKS (graceful SIGTERM)."""
    wrong = [s for s in all_services() if s.is_running() and not s.runs_with_links_of_this_mode()]
    for service in wrong:
        service.stop()
    start_services(all_services())
    return [s.name for s in wrong]


def assert_links_proxied() -> None:
    """No proxied service talks to a server directly: a fault on its proxy would miss it."""
    from injectors import process_tree

    pids = {pid for name in {lk.service for lk in LINKS}
            for pid in process_tree(next(s for s in all_services() if s.name == name).read_pid())}
    leaks = direct_connections(pids)
    assert not leaks, f"connections that bypass Toxiproxy: {leaks}"


@pytest.fixture(scope="module")
def proxied_pipeline(pipeline):
    """Every service with each link to a server through its own Toxiproxy proxy; back to
    direct links afterwards, as `make demo` and the rest of the suite expect."""
    from scenario import wait_for_exclusive_stack

    if not all(is_port_open(p) for p in kafka_listener_ports()):
        # A broker started from an older config lacks the per-client listeners.
        wait_for_exclusive_stack()
        Kafka().stop()
        stack.up(["kafka"])
    proxy_server = Toxiproxy()
    started = not proxy_server.is_running()
    if started:
        proxy_server.start()
    wait_until(proxy_server.healthy, 30, "toxiproxy", proxy_server.log_file)
    proxies = ToxiproxyClient()
    proxies.create_proxies()
    os.environ["PIPELINE_LINKS"] = "toxiproxy"
    try:
        _restart_in_current_mode()
        assert_links_proxied()
        yield proxies
        assert_links_proxied()  # after the traffic, every lazily made connection exists
    finally:
        proxies.reset()
        os.environ.pop("PIPELINE_LINKS", None)
        _restart_in_current_mode()
        proxies.close()
        if started:
            proxy_server.stop()


@pytest.fixture(scope="session")
def fault_table():
    """Every fault entry of the session, printed as one table at the end."""
    from scenario import FAULT_REPORT, format_table

    entries: list[dict] = []
    yield entries
    if entries:
        print(format_table(entries))
        print(f"fault report: {FAULT_REPORT}")
