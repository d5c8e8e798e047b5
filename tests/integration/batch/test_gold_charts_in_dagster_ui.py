"""The gold charts in Dagster's UI, seen by a real browser: the marts materialized on the real
PostgreSQL catalog into a scratch Dagster instance, a private dagster-webserver on a free port
serving it, and `infra.asset_screenshots` opening each gold asset's chart in headless Chromium.
The stack's own Dagster (port 3000) is not touched."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_lake import make_event_row
from dagster import DagsterInstance, materialize
from PIL import Image

from batch.assets import GOLD_MARTS, LAKE_ASSETS
from infra import asset_screenshots as shots

REPO_ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(not os.access(shots.CHROMIUM, os.X_OK),
                                reason="no Chromium: make chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dagster_home(tmp_path) -> Path:
    home = tmp_path / "dagster"
    home.mkdir()
    return home


@pytest.fixture
def webserver(dagster_home, tmp_path):
    """dagster-webserver over `batch.definitions` and the scratch instance; its base URL."""
    port = free_port()
    log = (tmp_path / "webserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-m", "batch.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "DAGSTER_HOME": str(dagster_home), "DAGSTER_DISABLE_TELEMETRY": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                shots.check_dagster(url, timeout_s=2)
                break
            except shots.ScreenshotError:
                assert server.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "dagster-webserver did not answer in 120 s"
                time.sleep(1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_each_gold_assets_page_shows_its_chart_in_headless_chromium(lake, dagster_home,
                                                                     webserver, tmp_path):
    lake.add_events([make_event_row(
        f"stripe:shot_{i}", provider_created_at=f"2026-01-0{1 + i % 3}T10:00:00Z",
        currency=("USD", "EUR", "JPY")[i % 3], fraud_risk_level=("low", "high")[i % 2])
        for i in range(12)])
    lake.load_until_caught_up()
    instance = DagsterInstance.from_config(str(dagster_home))
    assert materialize(LAKE_ASSETS, resources=lake.resources, instance=instance).success

    out = tmp_path / "screenshots"
    assert shots.main(["--out", str(out), "--url", webserver]) == 0
    for mart in GOLD_MARTS:
        shot = Image.open(out / f"{mart.name}.png")
        assert shot.size == shots.WINDOW, mart.name
