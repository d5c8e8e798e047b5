"""stripe-mock, Stripe's API emulator, as a subprocess on free loopback ports.

Installed by ``make stripe-mock`` (go install, into GOPATH/bin); ``STRIPE_MOCK_BIN`` names
another binary. A missing binary fails the test that needs it, saying how to install it.
Served events: the bundled canned ones by default, or real ones through ``-fixtures``
(a JSON file ``{"resources": {"event": <one event>}}``: every list and retrieve of
``/v1/events`` then answers with that event).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

API_KEY = "sk_test_reconciliation"  # stripe-mock accepts any sk_test_ key


def stripe_mock_binary() -> Path:
    candidates = [os.environ.get("STRIPE_MOCK_BIN"), shutil.which("stripe-mock")]
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if Path(go).exists():
        gopath = subprocess.run([go, "env", "GOPATH"], capture_output=True, text=True,
                                check=False).stdout.strip()
        candidates.append(str(Path(gopath) / "bin" / "stripe-mock") if gopath else None)
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail("stripe-mock is not installed: run `make stripe-mock` (go install "
                "github.com/stripe/stripe-mock@<pinned version>) or set STRIPE_MOCK_BIN")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_event_fixtures(path: Path, event: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"resources": {"event": event}}))
    return path


class StripeMock:
    """One stripe-mock process; ``api_base`` is its HTTP address."""

    def __init__(self, log_path: Path, fixtures: Path | None = None) -> None:
        self.http_port, self.https_port = _free_port(), _free_port()
        self.api_base = f"http://127.0.0.1:{self.http_port}"
        # Both addresses explicitly: with -http-addr alone it still opens HTTPS on *:12112.
        self.argv = [str(stripe_mock_binary()), "-http-addr", f"127.0.0.1:{self.http_port}",
                     "-https-addr", f"127.0.0.1:{self.https_port}"]
        if fixtures is not None:
            self.argv += ["-fixtures", str(fixtures)]
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, within: float = 30) -> StripeMock:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"stripe-mock exited with {self.proc.returncode}:\n{self.log()}")
            try:
                httpx.get(f"{self.api_base}/v1/events", timeout=1,
                          headers={"Authorization": f"Bearer {API_KEY}"}).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"stripe-mock did not answer within {within} s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
