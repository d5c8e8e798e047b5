"""DEMO_WORKERS: how many of each worker, each extra one on its own port and data dir."""

from __future__ import annotations

import pytest

from infra import services
from infra.worker_counts import WorkerCountError, extra_instance_of, worker_counts


def test_one_of_each_by_default():
    assert worker_counts({}) == {"normalizer": 1, "starter": 1, "orchestration-worker": 1}


def test_counts_per_service():
    assert worker_counts({"DEMO_WORKERS": "normalizer=2,starter=2,orchestration=3"}) == {
        "normalizer": 2, "starter": 2, "orchestration-worker": 3}


@pytest.mark.parametrize("raw", ["gateway=2", "normalizer", "normalizer=two", "normalizer=0",
                                 "starter=9", "normalizer=2,,starter=2"])
def test_a_bad_value_is_refused_naming_the_setting(raw):
    with pytest.raises(WorkerCountError, match="DEMO_WORKERS"):
        worker_counts({"DEMO_WORKERS": raw})


def test_extra_instances_are_known_by_name():
    assert extra_instance_of("normalizer-2").number == 2
    assert extra_instance_of("orchestration-worker-3").service == "orchestration-worker"
    assert extra_instance_of("orchestration-worker") is None
    assert extra_instance_of("normalizer") is None and extra_instance_of("gateway-2") is None


def test_extra_workers_get_their_own_port_and_data_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(services, "STATE_DIR", tmp_path)
    monkeypatch.setenv("DEMO_WORKERS", "normalizer=2,starter=2,orchestration=2")
    by_name = {s.name: s for s in services.all_services()}
    assert {"normalizer-2", "starter-2", "orchestration-worker-2"} <= by_name.keys()
    second = by_name["normalizer-2"]
    assert second.port == 6166 and second.argv == by_name["normalizer"].argv
    assert second.extra_env["STREAMS_WEB_PORT"] == "6166"
    assert second.extra_env["STREAMS_DATA_DIR"] == str(tmp_path / "faust-2")
    assert by_name["starter-2"].port == 6167
    assert by_name["orchestration-worker-2"].extra_env == {"ORCHESTRATOR_HEALTH_PORT": "6168"}
    ports = [port for s in by_name.values() for port in s.ports]
    assert len(ports) == len(set(ports))


def test_a_running_extra_worker_is_listed_without_the_setting(monkeypatch, tmp_path):
    monkeypatch.setattr(services, "STATE_DIR", tmp_path)
    monkeypatch.delenv("DEMO_WORKERS", raising=False)
    (tmp_path / "pids").mkdir()
    (tmp_path / "pids" / "starter-2.pid").write_text("1")
    names = [s.name for s in services.all_services()]
    assert "starter-2" in names and "normalizer-2" not in names
