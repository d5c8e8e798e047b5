"""Docs and metrics live on the admin port only; the webhook port answers 404 for them."""

from __future__ import annotations

import socket

import httpx
import pytest

from gateway.admin import ADMIN_PATHS, AdminStartError

# The webhook port's FastAPI would serve all of these by default.
ADMIN_ONLY = [*ADMIN_PATHS, "/docs/oauth2-redirect"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("path", ADMIN_ONLY)
async def test_the_webhook_port_does_not_serve_docs_or_metrics(client, path):
    response = await client.get(path)
    assert (response.status_code, response.json()["reason"]) == (404, "not_found")


@pytest.mark.parametrize("path", ADMIN_PATHS)
async def test_the_admin_app_serves_docs_and_metrics(admin_client, path):
    assert (await admin_client.get(path)).status_code == 200


async def test_probes_stay_on_the_webhook_port(client, admin_client):
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/ready")).status_code == 200
    assert (await admin_client.get("/health")).status_code == 404


async def test_the_admin_docs_describe_the_webhook_api(admin_client):
    schema = (await admin_client.get("/openapi.json")).json()
    assert "/webhooks/{provider}" in schema["paths"]
    assert schema["info"]["title"] == "Payment webhook gateway"


async def test_serve_admin_listens_on_loopback_while_the_gateway_runs(settings, publisher):
    from gateway.app import create_app

    port = free_port()
    app = create_app(settings.model_copy(update={"ADMIN_PORT": port}), publisher=publisher,
                     serve_admin=True)
    async with app.router.lifespan_context(app), httpx.AsyncClient() as http:
        for path in ADMIN_PATHS:
            response = await http.get(f"http://127.0.0.1:{port}{path}")
            assert response.status_code == 200, path
        assert "gateway_webhooks" in (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass  # stopped with the gateway


async def test_a_taken_admin_port_stops_startup_naming_the_setting(settings, publisher):
    from gateway.app import create_app

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = create_app(settings.model_copy(update={"ADMIN_PORT": port}),
                         publisher=publisher, serve_admin=True)
        with pytest.raises(AdminStartError, match="GATEWAY_ADMIN_PORT"):
            async with app.router.lifespan_context(app):
                pass


def test_admin_port_zero_serves_no_admin_surface(settings, publisher):
    from gateway.app import create_app

    app = create_app(settings.model_copy(update={"ADMIN_PORT": 0}), publisher=publisher,
                     serve_admin=True)
    assert app.state.admin_server is None


def test_the_default_admin_address_is_loopback_and_off_the_stacks_ports():
    from gateway.settings import GatewaySettings

    fields = GatewaySettings.model_fields
    assert fields["ADMIN_HOST"].default == "127.0.0.1"
    taken = {8000, 8002, 6066, 6067, 6068, 3000, 8474, 8233, 7233, 9092, 9093, 55432}
    assert fields["ADMIN_PORT"].default not in taken


@pytest.mark.parametrize(("setting", "value"), [("ADMIN_PORT", "70000"), ("ADMIN_PORT", "-1"),
                                                ("ADMIN_HOST", " ")])
def test_a_bad_admin_address_stops_startup_naming_the_setting(monkeypatch, setting, value):
    from gateway_support import SECRET

    from gateway.settings import GatewayConfigError, load_settings

    monkeypatch.setenv(f"GATEWAY_{setting}", value)
    with pytest.raises(GatewayConfigError, match=f"GATEWAY_{setting}"):
        load_settings(STRIPE_WEBHOOK_SECRET=SECRET)
