"""Every table has a web view, answered by the worker that owns the key (no servers here)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from faust.exceptions import SameNode
from faust.web.exceptions import ServiceUnavailable

from streams import normalizer, starter, views


@pytest.mark.parametrize("app", [normalizer.app, starter.app], ids=["normalizer", "starter"])
def test_every_table_has_a_routed_view(app):
    assert set(app.tables) == views.ROUTED_TABLES.get(app.conf.id, set())


def test_web_binds_loopback_only():
    for app in (normalizer.app, starter.app):
        assert app.conf.web_bind == "127.0.0.1"
        assert app.conf.web_host == "127.0.0.1"


class FakeAssignor:
    def __init__(self, owner):
        self.owner, self.asked = owner, []

    def key_store(self, topic, key):
        self.asked.append((topic, key))
        if self.owner is None:
            raise KeyError(key)
        return self.owner


@pytest.fixture
def routed(monkeypatch):
    """A view routed like /dedup/...: returns (call, assignor, forwarded)."""
    forwarded = []
    table = SimpleNamespace(name="t", changelog_topic=SimpleNamespace(
        get_topic_name=lambda: "app-t-changelog"))
    app = SimpleNamespace(conf=SimpleNamespace(id="test-routing"), assignor=FakeAssignor(None))

    async def forward(app_, owner, web, request):
        forwarded.append(owner)
        if owner == "self":
            raise SameNode()
        return "from the owner"

    monkeypatch.setattr(views, "forward_request", forward)

    @views.route_by_source_key(app, table, match_info="provider_event_id")
    async def get(view, request, **_):
        return "answered here"

    async def call(owner):
        app.assignor.owner = owner
        request = SimpleNamespace(match_info={"provider_event_id": "evt_1"})
        return await get(SimpleNamespace(web=None), request)

    return call, app.assignor, forwarded


async def test_the_key_routes_by_the_raw_key_bytes_not_the_tables_json(routed):
    call, assignor, forwarded = routed
    assert await call("http://127.0.0.1:7000") == "from the owner"
    # The raw topic's key, as the gateway wrote it: what chose the entry's partition.
    assert assignor.asked == [("app-t-changelog", b"evt_1")]
    assert forwarded == ["http://127.0.0.1:7000"]


async def test_the_owner_answers_itself(routed):
    call, _, _ = routed
    assert await call("self") == "answered here"


async def test_no_assignment_is_service_unavailable(routed):
    call, _, _ = routed
    with pytest.raises(ServiceUnavailable):
        await call(None)
