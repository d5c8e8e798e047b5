"""The whole pipeline as local processes: every service of `make demo`, on the real stack."""

import pytest

from infra.demo import start_services
from infra.services import all_services


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
