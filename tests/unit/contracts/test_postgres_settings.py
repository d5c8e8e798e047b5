"""contracts/postgres.py: a DSN must carry its role's real password, and no message quotes it;
every service's settings apply it, naming their own setting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.postgres import check_catalog_uri, check_dsn, check_password

GOOD = "postgresql://payments_worker:Zk3-generated_password_x1@db:5432/payments"


def test_a_dsn_with_a_generated_password_passes_stripped():
    assert check_dsn("X_DSN", f"  {GOOD}\n") == GOOD
    assert check_dsn("X_DSN", GOOD.replace("postgresql", "postgres")) is not None


@pytest.mark.parametrize(("value", "why"), [
    ("postgresql://payments_worker@db/payments", "holds no password"),
    ("postgresql://payments_worker:@db/payments", "holds no password"),
    ("postgresql://payments_worker:replace_me_local_only@db/payments", "placeholder"),
    ("postgresql://payments_worker:changeme@db/payments", "placeholder"),
    ("postgresql://payments_worker:short-one@db/payments", "at least 16"),
    ("postgresql://:Zk3-generated_password_x1@db/payments", "names no role"),
    ("postgresql://payments_worker:Zk3-generated_password_x1@db", "names no database"),
    ("mysql://payments_worker:Zk3-generated_password_x1@db/payments", "must start"),
    ("postgresql://payments_worker:Zk3-generated_password_x1@db:99999/p", "not a URL"),
])
def test_a_bad_dsn_is_refused_naming_the_setting_never_the_value(value, why):
    with pytest.raises(ValueError, match=why) as err:
        check_dsn("X_DSN", value)
    assert str(err.value).startswith("X_DSN")
    assert "payments_worker" not in str(err.value) and "replace_me" not in str(err.value)


def test_a_percent_encoded_password_is_measured_decoded():
    with pytest.raises(ValueError, match="it has 15"):
        check_dsn("X_DSN", "postgresql://r:%40" + "a" * 14 + "@db/p")


def test_catalog_uris_are_held_to_the_dsn_rule_only_when_they_are_postgres():
    sql = GOOD.replace("postgresql://", "postgresql+psycopg2://")
    assert check_catalog_uri("BATCH_CATALOG_URI", sql) == sql
    assert check_catalog_uri("BATCH_CATALOG_URI", "http://rest:8181") == "http://rest:8181"
    with pytest.raises(ValueError, match="BATCH_CATALOG_URI holds no password"):
        check_catalog_uri("BATCH_CATALOG_URI", "postgresql+psycopg2://u@db/p")


def test_passwords_alone():
    assert check_password("P", "x" * 16) == "x" * 16
    with pytest.raises(ValueError, match="P holds a placeholder"):
        check_password("P", "replace_me_with_a_long_one")


WORKER = GOOD
REVIEWER = GOOD.replace("payments_worker", "payments_reviewer")


def test_the_worker_needs_its_dsn_and_names_it(monkeypatch):
    from orchestration.settings import OrchestratorSettings

    monkeypatch.delenv("ORCHESTRATOR_POSTGRES_DSN", raising=False)
    with pytest.raises(ValidationError, match="POSTGRES_DSN"):
        OrchestratorSettings()
    monkeypatch.setenv("ORCHESTRATOR_POSTGRES_DSN", "postgresql://payments_worker@db/payments")
    with pytest.raises(ValidationError, match="ORCHESTRATOR_POSTGRES_DSN holds no password") as e:
        OrchestratorSettings()
    assert "payments_worker@db" not in str(e.value)
    monkeypatch.setenv("ORCHESTRATOR_POSTGRES_DSN", WORKER)
    assert OrchestratorSettings().POSTGRES_DSN == WORKER


def test_the_review_cli_reads_the_reviewers_dsn_and_only_when_it_needs_it(monkeypatch):
    from orchestration.settings import MissingSettingError, ReviewSettings

    monkeypatch.setenv("ORCHESTRATOR_POSTGRES_DSN", WORKER)  # the worker's: never the CLI's
    monkeypatch.delenv("ORCHESTRATOR_REVIEW_POSTGRES_DSN", raising=False)
    settings = ReviewSettings()  # `failed` and `redrive` need only Temporal
    with pytest.raises(MissingSettingError, match="ORCHESTRATOR_REVIEW_POSTGRES_DSN"):
        settings.review_dsn()
    monkeypatch.setenv("ORCHESTRATOR_REVIEW_POSTGRES_DSN", REVIEWER)
    assert ReviewSettings().review_dsn() == REVIEWER
    monkeypatch.setenv("ORCHESTRATOR_REVIEW_POSTGRES_DSN", "postgresql://x:replace_me@db/p")
    with pytest.raises(ValidationError, match="ORCHESTRATOR_REVIEW_POSTGRES_DSN holds a place"):
        ReviewSettings()


def test_the_review_cli_stops_naming_the_missing_setting(monkeypatch, capsys):
    from orchestration import review

    monkeypatch.delenv("ORCHESTRATOR_REVIEW_POSTGRES_DSN", raising=False)
    assert review.main(["list"]) == 2
    assert "ORCHESTRATOR_REVIEW_POSTGRES_DSN is not set" in capsys.readouterr().err
