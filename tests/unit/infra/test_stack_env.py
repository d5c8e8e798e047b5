"""infra/stack_env.py on a scratch folder: `.stack/env` is made once, kept, sourceable by a
shell, holds every role's DSN built from its password, and keeps lines it does not own."""

from __future__ import annotations

import stat
import subprocess
from urllib.parse import urlsplit

import pytest

from infra import stack_env
from infra.roles import ROLES, WORKER
from infra.servers import POSTGRES_PORT, StackError


@pytest.fixture
def env_file(tmp_path):
    return tmp_path / "env"


def test_the_first_run_generates_every_password_and_dsn_then_keeps_them(env_file):
    first = stack_env.ensure({"STRIPE_WEBHOOK_SECRET": "whsec_a"}, path=env_file)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    for role in ROLES:
        password = first[role.password]
        assert len(password) >= 32
        for setting, scheme in role.dsns:
            url = urlsplit(first[setting])
            assert (url.scheme, url.username, url.password) == (scheme, role.name, password)
            assert (url.hostname, url.port, url.path) == ("127.0.0.1", POSTGRES_PORT,
                                                          "/payments")
    again = stack_env.ensure({"STRIPE_WEBHOOK_SECRET": "whsec_b"}, path=env_file)
    assert again == first  # nothing regenerated, nothing overwritten


def test_a_removed_password_is_generated_anew_and_its_dsns_follow(env_file):
    first = stack_env.ensure(path=env_file)
    kept = {k: v for k, v in first.items() if k != WORKER.password}
    stack_env.write(kept, env_file)
    second = stack_env.ensure(path=env_file)
    assert second[WORKER.password] != first[WORKER.password]
    assert second[WORKER.password] in second["ORCHESTRATOR_POSTGRES_DSN"]
    assert second["BATCH_POSTGRES_DSN"] == first["BATCH_POSTGRES_DSN"]


def test_lines_it_does_not_own_are_kept_and_derived_ones_rewritten(env_file):
    first = stack_env.ensure(path=env_file)
    stack_env.write({**first, "KAFKA_SASL_USERNAME": "operator",
                     "ORCHESTRATOR_POSTGRES_DSN": "edited by hand"}, env_file)
    second = stack_env.ensure(path=env_file)
    assert second["KAFKA_SASL_USERNAME"] == "operator"
    assert second["ORCHESTRATOR_POSTGRES_DSN"] == first["ORCHESTRATOR_POSTGRES_DSN"]


def test_a_later_credentials_module_adds_generated_and_derived_lines(env_file):
    values = stack_env.ensure({"KAFKA_SASL_PASSWORD": "s3cret"},
                              [lambda v: {"KAFKA_SASL_JAAS": f"pw={v['KAFKA_SASL_PASSWORD']}"}],
                              path=env_file)
    assert values["KAFKA_SASL_JAAS"] == "pw=s3cret"


def test_the_demo_env_of_earlier_versions_is_merged_once_and_removed(env_file):
    legacy = env_file.with_name("demo.env")
    legacy.write_text("STRIPE_WEBHOOK_SECRET=whsec_kept\n")
    values = stack_env.ensure({"STRIPE_WEBHOOK_SECRET": "whsec_new"}, path=env_file)
    assert values["STRIPE_WEBHOOK_SECRET"] == "whsec_kept"
    assert not legacy.exists()


def test_a_shell_sources_the_file_to_the_same_values(env_file):
    values = stack_env.ensure({"ODD": "a b'c\"$HOME;`x`", "EMPTY": ""}, path=env_file)
    names = sorted(values)
    script = f"set -a; . {env_file}; set +a; " + "; ".join(
        f'printf "%s\\0" "${{{n}}}"' for n in names)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin"}).stdout
    assert dict(zip(names, out.split("\0")[:-1], strict=True)) == values
    assert stack_env.read(env_file) == values


def test_a_line_that_is_not_key_value_is_refused(env_file):
    env_file.write_text("# comment\nJUST_A_WORD\n")
    with pytest.raises(StackError, match=":2: expected KEY=value"):
        stack_env.read(env_file)


def test_the_environment_wins_over_the_file(env_file, monkeypatch):
    stack_env.ensure(path=env_file)
    monkeypatch.setenv("POSTGRES_ADMIN_DSN", "postgresql://elsewhere")
    assert stack_env.setting("POSTGRES_ADMIN_DSN", env_file) == "postgresql://elsewhere"
    monkeypatch.delenv("POSTGRES_ADMIN_DSN")
    assert stack_env.setting("POSTGRES_ADMIN_DSN", env_file).startswith("postgresql://postgres:")
    with pytest.raises(StackError, match="NOT_THERE is not in"):
        stack_env.setting("NOT_THERE", env_file)


def test_services_get_their_dsns_but_never_a_bare_password_or_the_admins(monkeypatch, tmp_path):
    from infra import services

    monkeypatch.setattr(services, "stack_credentials",
                        lambda: stack_env.ensure(path=tmp_path / "env"))
    monkeypatch.setattr(services, "STATE_DIR", tmp_path)
    env = services.demo_environment()
    assert "ORCHESTRATOR_POSTGRES_DSN" in env and "BATCH_CATALOG_URI" in env
    assert not {r.password for r in ROLES} & set(env)
    assert "POSTGRES_ADMIN_DSN" not in env and "MIGRATE_POSTGRES_DSN" not in env
