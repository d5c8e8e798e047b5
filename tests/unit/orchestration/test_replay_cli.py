"""The replay command's arguments and settings: a clear usage error, the setting named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestration import replay
from orchestration.replay_settings import ReplaySettings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DSN = "postgresql://payments_reader:unit-test-password-0123@h:1/db"


def test_defaults_dry_run_at_twenty_a_second_until_now():
    args = replay.parse_args(["--provider", "stripe", "--since", "2026-12-01T10:00:00Z"], NOW)
    assert (args.provider, args.apply, args.rate, args.id_prefix) == ("stripe", False, 20.0, "")
    assert args.window.since == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert args.window.until == NOW


def test_every_option():
    args = replay.parse_args(["--provider", "adyen", "--since", "2026-12-01T10:00:00Z",
                              "--until", "2026-12-01T10:30:00+00:00", "--apply",
                              "--rate", "2.5", "--id-prefix", "psp_"], NOW)
    assert (args.provider, args.apply, args.rate, args.id_prefix) == ("adyen", True, 2.5, "psp_")
    assert args.window.until == datetime(2026, 12, 1, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(("argv", "message"), [
    (["--since", "2026-12-01T10:00:00Z"], "--provider"),
    (["--provider", "paypal", "--since", "2026-12-01T10:00:00Z"], "invalid choice"),
    (["--provider", "stripe"], "--since"),
    (["--provider", "stripe", "--since", "2026-12-01 10:00"], "no UTC offset"),
    (["--provider", "stripe", "--since", "soon"], "not an RFC 3339"),
    (["--provider", "stripe", "--since", "2026-12-01T10:00:00Z",
      "--until", "2026-12-01T09:00:00Z"], "must be before"),
    (["--provider", "stripe", "--since", "2026-12-01T13:00:00Z"], "must be before"),
    (["--provider", "stripe", "--since", "2026-12-01T10:00:00Z", "--rate", "0"], "above 0"),
    (["--provider", "stripe", "--since", "2026-12-01T10:00:00Z", "--rate", "x"],
     "not a number"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        replay.parse_args(argv, NOW)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("name", "value"), [
    ("KAFKA_BOOTSTRAP_SERVERS", "no-port"), ("KAFKA_BOOTSTRAP_SERVERS", "host:99999"),
    ("ORCHESTRATOR_READER_POSTGRES_DSN", "mysql://x"),
    ("ORCHESTRATOR_READER_POSTGRES_DSN", "postgresql://payments_reader@h:1/db"),
    ("ORCHESTRATOR_KAFKA_REQUEST_TIMEOUT_SECONDS", "0"),
])
def test_bad_settings_stop_with_the_setting_named(name, value, monkeypatch, capsys):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("ORCHESTRATOR_READER_POSTGRES_DSN", DSN)
    monkeypatch.setenv(name, value)
    assert replay.main(["--provider", "stripe", "--since", "2026-12-01T10:00:00Z"]) == 2
    assert name in capsys.readouterr().err


def test_settings_read_the_pipeline_s_own_variable_names(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092, k2:9093")
    monkeypatch.setenv("ORCHESTRATOR_READER_POSTGRES_DSN", DSN)
    settings = ReplaySettings()
    assert settings.KAFKA_BOOTSTRAP_SERVERS == "k1:9092,k2:9093"
    assert settings.POSTGRES_DSN == DSN
