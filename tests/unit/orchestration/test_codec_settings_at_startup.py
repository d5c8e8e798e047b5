"""The worker and the review CLI read the payload codec's settings before touching Temporal:
a missing or unusable key stops them with exit 2, naming the setting."""

from __future__ import annotations

import pytest

from encryption import KEY_ID_SETTING, KEYS_SETTING
from orchestration import review, worker


@pytest.fixture(autouse=True)
def no_temporal(monkeypatch):
    # Nothing listens here: reaching Temporal would be a bug of the test, never the stack's.
    monkeypatch.setenv("ORCHESTRATOR_TEMPORAL_TARGET", "127.0.0.1:1")


@pytest.fixture
def no_codec_key(monkeypatch, worker_dsn):
    monkeypatch.delenv(KEYS_SETTING, raising=False)


@pytest.fixture
def worker_dsn(monkeypatch):
    """A well-formed DSN, so that the codec's settings are what the worker refuses."""
    monkeypatch.setenv("ORCHESTRATOR_POSTGRES_DSN",
                       "postgresql://payments_worker:a-long-enough-password@127.0.0.1:1/payments")


def test_the_worker_stops_naming_a_missing_key(no_codec_key, capsys):
    assert worker.main() == 2
    err = capsys.readouterr().err
    assert "invalid configuration" in err and KEYS_SETTING in err


def test_the_worker_stops_naming_a_key_id_outside_the_ring(monkeypatch, capsys, worker_dsn):
    monkeypatch.setenv(KEY_ID_SETTING, "not-in-the-ring")
    assert worker.main() == 2
    assert KEY_ID_SETTING in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["failed"], ["redrive", "--all"],
                                  ["reject", "x", "--reason", "y"]])
def test_the_review_cli_stops_naming_a_missing_key_before_temporal(no_codec_key, capsys, argv,
                                                                   monkeypatch):
    async def no_quarantine_row_needed(args, settings):
        # decide() reads PostgreSQL first; only its Temporal step is under test here.
        return await review._connect(settings)

    monkeypatch.setitem(review.COMMANDS, "reject", no_quarantine_row_needed)
    assert review.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("review: invalid configuration") and KEYS_SETTING in err
