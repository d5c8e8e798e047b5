"""docker-compose.yml renders as valid Compose with the real compose binary; nothing is started."""

import subprocess
from pathlib import Path

import compose

REPO_ROOT = Path(__file__).resolve().parents[2]
# The package's wrapper script always exits 0, so call the Go binary it ships.
COMPOSE_BIN = Path(compose.__file__).parent / "docker-compose"


def run_config(*args: str, env_file: str | None = ".env.example") -> subprocess.CompletedProcess:
    env_args = ["--env-file", str(REPO_ROOT / env_file)] if env_file else []
    return subprocess.run(
        [str(COMPOSE_BIN), "-f", str(REPO_ROOT / "docker-compose.yml"), *env_args, "config", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_compose_file_validates():
    result = run_config("--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_the_secrets():
    result = run_config("--quiet", env_file=None)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "STRIPE_WEBHOOK_SECRET" in result.stderr


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
    long_running = [n for n, s in services.items() if s.get("restart") != "no"]
    for name in long_running:
        if name != "temporal-ui":
            assert "healthcheck" in services[name], name
    assert {"gateway", "normalizer", "starter", "orchestration-worker", "inference", "dagster",
            "simulator"} <= set(services)
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    assert "whsec_" not in text and "sk_live" not in text
