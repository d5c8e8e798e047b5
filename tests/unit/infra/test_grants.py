"""infra/grants.py and infra/roles.py without a server: every migrated table has its grants,
no grantee may change the schema or delete, and the SQL of both steps says so."""

from __future__ import annotations

import re

import pytest

from infra.db_settings import RolesSettings
from infra.grants import GRANTS, OWNER_ONLY, Grant, check_grants, grant_statements
from infra.migrate import load_migrations
from infra.roles import (
    BATCH,
    ERASER,
    GRANTEES,
    OWNER,
    READER,
    REVIEWER,
    ROLES,
    WORKER,
    role_statements,
)

_CREATED = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(?:public\.)?(\w+)", re.IGNORECASE)


def migrated_tables() -> set[str]:
    return {name for m in load_migrations() for name in _CREATED.findall(m.sql)}


def test_every_table_a_migration_creates_is_granted_or_the_owners_alone():
    granted = {g.table for g in GRANTS}
    missing = migrated_tables() - granted - OWNER_ONLY
    assert not missing, f"add these tables' lines to infra/grants.py GRANTS: {sorted(missing)}"
    assert granted <= migrated_tables(), "a grant names a table no migration creates"


def privileges(who) -> dict[str, set[str]]:
    return {g.table: set(g.privileges) for g in GRANTS if g.role is who}


def test_only_the_eraser_deletes_and_only_the_worker_and_eraser_write():
    assert {g.role for g in GRANTS if "DELETE" in g.privileges} == {ERASER}
    for who in (BATCH, REVIEWER, READER):
        assert all(p == {"SELECT"} for p in privileges(who).values()), who.key
    assert privileges(WORKER) == {
        "payment_events": {"SELECT", "INSERT"},
        "payment_events_quarantine": {"SELECT", "INSERT", "UPDATE"},
        "payments": {"SELECT", "INSERT", "UPDATE"},
        "dlq_review_audit": {"SELECT", "INSERT"},
        "erased_customers": {"SELECT"}}


def test_the_eraser_deletes_rows_and_only_adds_to_its_own_tables():
    assert privileges(ERASER) == {
        "payment_events": {"SELECT", "DELETE"},
        "payment_events_quarantine": {"SELECT", "DELETE"},
        "payments": {"SELECT", "DELETE"},
        "erased_customers": {"SELECT", "INSERT"},
        "erasure_audit": {"SELECT", "INSERT"}}


def test_batch_reads_every_payment_events_table_and_the_reviewer_only_quarantine():
    assert set(privileges(BATCH)) == {"payment_events", "payment_events_quarantine", "payments",
                                      "erased_customers"}
    assert set(privileges(REVIEWER)) == {"payment_events_quarantine", "dlq_review_audit"}


@pytest.mark.parametrize(("bad", "why"), [
    (Grant("t", WORKER, ("DROP",), "x"), "privileges must be"),
    (Grant("t", WORKER, (), "x"), "privileges must be"),
    (Grant("t", OWNER, ("SELECT",), "x"), "not a grantee"),
])
def test_a_bad_line_is_refused(bad, why):
    with pytest.raises(ValueError, match=why):
        check_grants((*GRANTS, bad))


def test_a_table_listed_twice_for_one_role_is_refused():
    with pytest.raises(ValueError, match="listed twice"):
        check_grants((*GRANTS, Grant("payments", WORKER, ("SELECT",), "x")))


def test_the_step_revokes_everything_before_it_grants_and_closes_publics_defaults():
    sql = grant_statements('pay"ments')
    revokes = [i for i, s in enumerate(sql) if s.startswith("REVOKE")]
    grants = [i for i, s in enumerate(sql) if s.startswith("GRANT SELECT")]
    assert max(revokes) < min(grants)
    assert 'REVOKE ALL ON DATABASE "pay""ments" FROM PUBLIC' in sql
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC" in sql
    assert ('GRANT SELECT, INSERT ON TABLE public."payment_events" TO "payments_worker"'
            in sql)
    assert not any("CREATE ON SCHEMA public" in s and s.startswith("GRANT") for s in sql)
    # Only the batch role may create, and only in the catalog's schema.
    creates = [s for s in sql if s.startswith("GRANT") and "CREATE" in s]
    assert creates == ['GRANT USAGE, CREATE ON SCHEMA "lakehouse" TO "payments_batch"']


def test_every_role_has_its_own_name_password_and_dsns():
    assert len({r.name for r in ROLES}) == len({r.password for r in ROLES}) == len(ROLES)
    settings = [name for r in ROLES for name, _ in r.dsns]
    assert len(settings) == len(set(settings))
    assert set(GRANTEES) == set(ROLES) - {ROLES[0], OWNER}


def test_the_roles_step_makes_no_superuser_and_takes_every_password():
    passwords = {r.password: f"pw-{r.key}" for r in ROLES}
    statements = role_statements(passwords)
    for who in ROLES[1:]:
        (template, args), = [(t, a) for t, a in statements if a[:1] == (who.name,) and
                             "PASSWORD" in t]
        assert "NOSUPERUSER NOCREATEDB NOCREATEROLE" in template and "LOGIN" in template
        assert args == (who.name, f"pw-{who.key}")
    assert ("GRANT %I TO %I", (BATCH.name, OWNER.name)) in statements
    assert not any("'" in t for t, _ in statements)  # the server quotes every value


def test_the_roles_steps_settings_are_every_roles_password():
    fields = set(RolesSettings.model_fields)
    assert fields == {"POSTGRES_ADMIN_DSN"} | {r.password for r in ROLES[1:]}
