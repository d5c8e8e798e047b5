import pytest

from orchestration.migrate import MigrationError, load_migrations


def test_shipped_migrations_are_numbered_and_unique():
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(set(versions))
    assert versions[0] == 1


def test_a_misnamed_file_is_refused(tmp_path):
    (tmp_path / "first.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNN_name.sql"):
        load_migrations(tmp_path)


def test_duplicate_versions_are_refused(tmp_path):
    (tmp_path / "001_a.sql").write_text("SELECT 1;")
    (tmp_path / "001_b.sql").write_text("SELECT 2;")
    with pytest.raises(MigrationError, match="duplicate"):
        load_migrations(tmp_path)
