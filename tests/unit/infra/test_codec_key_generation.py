"""The local stack makes its payload codec key itself, once, as it does the webhook secrets,
and its Temporal UI is pointed at the codec endpoint."""

from __future__ import annotations

import pytest

from encryption import KEY_ID_SETTING, KEYS_SETTING, CodecSettings
from infra import services, stack_env, temporal_server


@pytest.fixture
def env_file(tmp_path, monkeypatch):
    """The stack's `.stack/env` (infra/stack_env.py) on a scratch folder."""
    path = tmp_path / "env"
    monkeypatch.setattr(services, "stack_credentials",
                        lambda: stack_env.ensure(services._generated_secrets(), path=path))
    return path


def test_a_fresh_stack_makes_a_usable_key_once_and_keeps_it(env_file):
    first = services.codec_environment()
    assert set(first) == {KEYS_SETTING, KEY_ID_SETTING}
    settings = CodecSettings(**first)
    assert settings.TEMPORAL_CODEC_KEY_ID == services.LOCAL_CODEC_KEY_ID
    assert services.codec_environment() == first  # kept, not remade
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert f"{KEYS_SETTING}={first[KEYS_SETTING]}\n" in env_file.read_text()


def test_an_older_stack_gets_a_key_and_keeps_its_other_secrets(env_file):
    env_file.write_text("STRIPE_WEBHOOK_SECRET=whsec_kept\n")
    env = services.demo_environment()
    assert env["STRIPE_WEBHOOK_SECRET"] == "whsec_kept"
    CodecSettings(**{name: env[name] for name in (KEYS_SETTING, KEY_ID_SETTING)})
    assert "STRIPE_WEBHOOK_SECRET=whsec_kept\n" in env_file.read_text()


def test_the_temporal_ui_is_pointed_at_the_codec_endpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(temporal_server, "STATE_DIR", tmp_path)
    monkeypatch.delenv("TEMPORAL_CODEC_SERVER_PORT", raising=False)
    started: list[list[str]] = []
    monkeypatch.setattr(temporal_server.Temporal, "spawn",
                        lambda self, argv, env=None: started.append(argv) or 0)
    temporal_server.Temporal().start()
    [argv] = started
    assert argv[argv.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8089"
    monkeypatch.setenv("TEMPORAL_CODEC_SERVER_PORT", "18089")
    assert temporal_server.codec_endpoint() == "http://127.0.0.1:18089"
