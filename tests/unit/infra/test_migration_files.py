"""The runner finds every owner's migration files and orders them by version, without a server."""

from pathlib import Path

import pytest

from infra.migrate import MIGRATION_DIRS, MigrationError, load_migrations


def test_shipped_migrations_are_numbered_and_unique():
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(set(versions))
    assert versions[0] == 1


def test_each_owner_keeps_its_own_files():
    owned = {d.parent.name: sorted(p.name for p in d.glob("*.sql")) for d in MIGRATION_DIRS}
    assert owned == {
        "orchestration": ["001_payment_tables.sql", "011_quarantine_payload_excerpt.sql",
                          "012_payments.sql", "014_quarantine_redaction.sql",
                          "015_review_audit.sql", "017_payment_events_workflow_id.sql"],
        "batch": ["010_lake_load_stamps.sql", "013_lakehouse_catalog_schema.sql",
                  "016_erasure.sql"],
    }


# What `schema_migrations` (version, name, checksum) recorded for each file when the old
# runner, `orchestration.migrate`, applied it. The new runner must read the same triple, or a
# database migrated before the files moved between owners would look out of date (or edited).
APPLIED_BY_THE_OLD_RUNNER = [
    (1, "payment_tables", "c8c317e6827bf8374951ddda4d6a6220e66972387d4f558fd4fb81eefdce3292"),
    (10, "lake_load_stamps", "fd70f4f031c3089eebe2e4016e7668c2ed9c5c3bdf5b885dc1857b438da9bdfe"),
    (11, "quarantine_payload_excerpt",
     "bae9c30ca15ce2e83131fc203cc0d102ce4ce15a11be3350fdd249a8bdada588"),
]


def test_a_database_migrated_before_the_move_is_up_to_date():
    shipped = [(m.version, m.name, m.checksum) for m in load_migrations()]
    assert shipped[:len(APPLIED_BY_THE_OLD_RUNNER)] == APPLIED_BY_THE_OLD_RUNNER


def owners(root: Path, files: dict[str, list[str]]) -> list[Path]:
    """One migrations folder per owner, each file holding ``SELECT <its version>;``."""
    folders = []
    for owner, names in files.items():
        folder = root / owner
        folder.mkdir()
        for name in names:
            (folder / name).write_text(f"SELECT {int(name.split('_')[0])};")
        folders.append(folder)
    return folders


def test_owners_files_merge_into_one_numeric_order(tmp_path):
    migrations = load_migrations(owners(tmp_path, {
        "first": ["001_a.sql", "011_c.sql"], "second": ["010_b.sql", "1000_d.sql", "099_e.sql"]}))
    assert [(m.version, m.name) for m in migrations] == [
        (1, "a"), (10, "b"), (11, "c"), (99, "e"), (1000, "d")]
    assert migrations[1].sql == "SELECT 10;"


def test_an_owner_without_files_contributes_nothing(tmp_path):
    (tmp_path / "001_a.sql").write_text("SELECT 1;")
    assert [m.name for m in load_migrations([tmp_path, tmp_path / "missing"])] == ["a"]


def test_a_misnamed_file_is_refused(tmp_path):
    (tmp_path / "first.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNN_name.sql"):
        load_migrations([tmp_path])


def test_duplicate_versions_are_refused(tmp_path):
    (tmp_path / "001_a.sql").write_text("SELECT 1;")
    (tmp_path / "001_b.sql").write_text("SELECT 2;")
    with pytest.raises(MigrationError, match="duplicate"):
        load_migrations([tmp_path])


def test_a_version_two_owners_both_use_is_refused_naming_both_files(tmp_path):
    folders = owners(tmp_path, {"first": ["010_a.sql"], "second": ["010_b.sql"]})
    with pytest.raises(MigrationError, match=r"duplicate migration version 10: .*first.*second"):
        load_migrations(folders)
