"""docker-compose.yml is valid Compose, checked by the real compose binary (no engine needed)."""

import subprocess
from pathlib import Path

import compose

REPO_ROOT = Path(__file__).resolve().parents[2]
# The package's wrapper script always exits 0, so call the Go binary it ships.
COMPOSE_BIN = Path(compose.__file__).parent / "docker-compose"


def run_config(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(COMPOSE_BIN), "-f", str(REPO_ROOT / "docker-compose.yml"), "config", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
    )


def test_compose_file_validates():
    result = run_config("--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_binary_rejects_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  x:\n    image: 3\n    depends_on: {y: {condition: nope}}\n")
    result = subprocess.run([str(COMPOSE_BIN), "-f", str(broken), "config", "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode != 0


def test_compose_services_are_health_checked_and_hold_no_secrets():
    import json

    result = run_config("--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in ("kafka", "postgres", "temporal"):
        assert "healthcheck" in services[name], name
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    assert "whsec_" not in text and "sk_live" not in text
