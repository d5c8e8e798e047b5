"""docker-compose.yml renders as valid Compose with the real compose binary; nothing is started."""

import re
import subprocess
from pathlib import Path

import compose

REPO_ROOT = Path(__file__).resolve().parents[2]
# The package's wrapper script always exits 0, so call the Go binary it ships.
COMPOSE_BIN = Path(compose.__file__).parent / "docker-compose"
COMPOSE_TEXT = (REPO_ROOT / "docker-compose.yml").read_text()


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
    # The compose binary names whichever required variable it meets first, and its
    # order is not fixed, so accept any of the file's own `${NAME:?...}` variables.
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE_TEXT))
    named = re.search(r"required variable (\w+) is missing", result.stderr)
    assert named and named.group(1) in required, result.stderr


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
        assert "healthcheck" in services[name], name
        # podman's Docker API splits ["CMD", ...] arguments at spaces; a shell line survives.
        assert services[name]["healthcheck"]["test"][0] == "CMD-SHELL", name
    assert {"kafka", "postgres", "temporal", "gateway", "normalizer", "starter", "inference",
            "orchestration-worker", "dagster", "simulator", "reconcile"} <= set(services)
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    assert "whsec_" not in text and "sk_live" not in text


def rendered_services(*extra_env: str) -> dict:
    import json

    env_file = REPO_ROOT / ".env.example"
    result = subprocess.run(
        [str(COMPOSE_BIN), "-f", str(REPO_ROOT / "docker-compose.yml"), "--env-file", str(env_file),
         "config", "--format", "json"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
        env={"PATH": "/usr/bin:/bin", **dict(e.split("=", 1) for e in extra_env)},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["services"]


def test_every_image_is_built_here_from_the_base_image_argument():
    """Nothing is pulled: each image is built once, FROM the BASE_IMAGE build argument."""
    services = rendered_services()
    built = {s["image"]: n for n, s in services.items() if "build" in s}
    assert len(built) == len([s for s in services.values() if "build" in s]), "built twice"
    for name, service in services.items():
        if "build" not in service:
            assert service["image"] in built and service["pull_policy"] == "never", name
            continue
        assert service["build"]["args"]["BASE_IMAGE"] == "debian:bookworm-slim", name
        text = (REPO_ROOT / service["build"]["dockerfile"]).read_text()
        assert "ARG BASE_IMAGE=debian:bookworm-slim" in text and "FROM ${BASE_IMAGE}" in text
    local = rendered_services("BASE_IMAGE=localhost/bookworm-base:latest")
    assert {s["build"]["args"]["BASE_IMAGE"] for s in local.values() if "build" in s} == {
        "localhost/bookworm-base:latest"}


def test_ports_are_published_on_loopback_only_and_each_is_a_variable():
    services = rendered_services("GATEWAY_HOST_PORT=18004", "KAFKA_HOST_PORT=18000")
    published = {(n, p["published"]): p for n, s in services.items() for p in s.get("ports", [])}
    assert published
    assert all(p["host_ip"] == "127.0.0.1" for p in published.values())
    assert ("gateway", "18004") in published and ("kafka", "18000") in published
    # The broker advertises the published port to the host.
    assert services["kafka"]["environment"]["KAFKA_HOST_PORT"] == "18000"
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for line in text.splitlines():
        if "127.0.0.1:" in line and "ports:" in line:
            assert line.count("127.0.0.1:${") == line.count("127.0.0.1:"), line


def test_the_broker_takes_the_record_budget_of_the_contract():
    from contracts.limits import MAX_RECORD_BYTES

    kafka = rendered_services()["kafka"]
    assert kafka["environment"]["KAFKA_MESSAGE_MAX_BYTES"] == str(MAX_RECORD_BYTES)


def test_dagster_starts_with_its_home_and_the_sensor_running():
    """DAGSTER_HOME is created and the sensor switched on, or compose never loads Iceberg."""
    script = (REPO_ROOT / "infra/compose/dagster.sh").read_text()
    assert "python -m batch.instance" in script
    assert "dagster sensor start -m batch.definitions postgres_new_rows_sensor" in script
    assert "dagster schedule start -m batch.definitions lakehouse_hourly_schedule" in script
    # The names are the definitions' own (read, not imported: importing dagster takes seconds).
    assert "def postgres_new_rows_sensor(" in (REPO_ROOT / "batch/sensors.py").read_text()
    assert 'name="lakehouse_hourly_schedule"' in (REPO_ROOT / "batch/schedules.py").read_text()
    dagster = rendered_services()["dagster"]
    assert dagster["command"][:2] == ["sh", "infra/compose/dagster.sh"]
    assert dagster["environment"]["DAGSTER_DISABLE_TELEMETRY"] == "1"


def test_the_container_broker_fills_every_placeholder_of_the_stack_template():
    """The compose broker renders infra/kafka's template with sed: a placeholder added to the
    template for the local stack must be given a value here too, or the broker never starts."""
    import re

    template = (REPO_ROOT / "infra/kafka/server.properties.template").read_text()
    entrypoint = (REPO_ROOT / "infra/compose/kafka-entrypoint.sh").read_text()
    placeholders = set(re.findall(r"\$\{([A-Z_]+)\}", template))
    filled = {name for name in placeholders
              if f"s|\\${{{name}}}|" in entrypoint
              or (name.startswith("KAFKA_PROXY_") and "s|\\${KAFKA_PROXY_[A-Z]*}||g" in entrypoint)}
    assert placeholders and placeholders == filled, placeholders - filled


def test_only_the_starter_and_the_worker_hold_the_payload_codec_key(tmp_path):
    """Least privilege: the key that opens Temporal payloads goes where payloads are made
    or read; `make test-compose` generates a usable one for each run (env.sh)."""
    from encryption import KEY_ID_SETTING, KEYS_SETTING, CodecSettings

    services = rendered_services()
    holders = {n for n, s in services.items() if KEYS_SETTING in (s.get("environment") or {})}
    assert holders == {"starter", "orchestration-worker"}
    command = services["temporal"]["command"]
    assert command[command.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8089"
    env_file = tmp_path / "compose.env"
    subprocess.run(["bash", str(REPO_ROOT / "infra/compose/env.sh"), str(env_file)], check=True)
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    CodecSettings(**{name: env[name] for name in (KEYS_SETTING, KEY_ID_SETTING)})


def test_each_service_signs_in_to_postgres_as_its_own_role_and_none_as_a_superuser():
    """infra/roles.py's roles, each with its own password variable; the superuser's password
    reaches only the cluster and the roles step."""
    from urllib.parse import urlsplit

    from infra.roles import ADMIN, ROLES

    services = rendered_services()
    dsns = {(name, key): value for name, service in services.items()
            for key, value in (service.get("environment") or {}).items()
            if key.endswith(("_DSN", "_URI")) and str(value).startswith("postgres")}
    by_setting = {setting: r for r in ROLES for setting, _ in r.dsns}
    assert {(n, k) for n, k in dsns} == {
        ("db-roles", "POSTGRES_ADMIN_DSN"), ("migrate", "MIGRATE_POSTGRES_DSN"),
        ("orchestration-worker", "ORCHESTRATOR_POSTGRES_DSN"),
        ("dagster", "BATCH_POSTGRES_DSN"), ("dagster", "BATCH_CATALOG_URI"),
        ("reconcile", "ORCHESTRATOR_READER_POSTGRES_DSN"),
        ("reconcile", "ORCHESTRATOR_READER_CATALOG_URI")}
    example = dict(line.split("=", 1) for line in (REPO_ROOT / ".env.example").read_text()
                   .splitlines() if line and not line.startswith("#"))
    for (service, setting), value in dsns.items():
        role = by_setting[setting]
        url = urlsplit(value)
        assert (url.username, url.password) == (role.name, example[role.password]), setting
        assert (role is ADMIN) == (service == "db-roles"), setting
    holders = {n for n, s in services.items()
               if ADMIN.password in (s.get("environment") or {})}
    assert holders == {"postgres"}


def test_the_example_passwords_are_refused_as_placeholders():
    from contracts.postgres import is_placeholder
    from infra.roles import ROLES

    example = (REPO_ROOT / ".env.example").read_text()
    for role in ROLES:
        value = re.search(rf"^{role.password}=(.*)$", example, re.MULTILINE)[1]
        assert is_placeholder(value), role.password
    generated = subprocess.run(["bash", str(REPO_ROOT / "infra/compose/env.sh"), "/dev/stdout"],
                               capture_output=True, text=True, check=True).stdout
    for role in ROLES:
        value = re.search(rf"^{role.password}=(.*)$", generated, re.MULTILINE)[1]
        assert len(value) >= 16 and not is_placeholder(value), role.password
