"""The local stack's one credentials file, ``STACK_DIR/env`` (``.stack/env``): every
credential the stack generates, and every setting built from one, as ``KEY=value`` lines a
shell can source (``set -a; . .stack/env; set +a``). `make up` writes it; `make status`
prints where it is; services, tests and operators' tools read it.

Two kinds of lines:
- generated: a secret made once on the first `make up` and kept (each PostgreSQL role's
  password here, the providers' secrets from ``infra.services``). A line missing from the
  file is generated anew, which is how ``rotate_passwords`` changes one.
- derived: settings built from generated values (each role's DSNs), rewritten on every
  `make up` from the passwords and the stack's port, so they never disagree.
Any other line (added by hand, or by a later credential's owner) is kept as it is. A new
kind of credential (e.g. Kafka SASL principals) adds its generator and its derived lines in
its own module and passes them to ``ensure``, as ``infra.services`` does the providers'.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shlex
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from infra.roles import ADMIN, ROLES, dsn, role
from infra.servers import POSTGRES_PORT, STATE_DIR, StackError

ENV_FILE = STATE_DIR / "env"
# What the stack wrote before .stack/env existed (the providers' secrets); read once, merged.
LEGACY_DEMO_ENV = STATE_DIR / "demo.env"
HOST = "127.0.0.1"
HEADER = (
    "# The local stack's credentials and the settings built from them, written by `make up`\n"
    "# (infra/stack_env.py). Source it: set -a; . .stack/env; set +a\n"
    "# *_DSN and *_URI lines are rewritten from the passwords on every `make up`; rotate a\n"
    "# password with `python -m infra.roles rotate KEY` (README, Roles and principals).\n"
)
Derive = Callable[[Mapping[str, str]], dict[str, str]]


def parse(text: str) -> dict[str, str]:
    """``KEY=value`` lines (values shell-quoted where needed), comments and blanks skipped."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line)
        if len(words) != 1 or "=" not in words[0]:
            raise StackError(f"{ENV_FILE}:{number}: expected KEY=value")
        key, value = words[0].split("=", 1)
        values[key] = value
    return values


def render(values: Mapping[str, str]) -> str:
    for key in values:
        if not key.isidentifier():
            raise StackError(f"{key!r} is not a shell variable name")
    return HEADER + "".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items())


def read(path: Path = ENV_FILE) -> dict[str, str]:
    try:
        return parse(path.read_text())
    except FileNotFoundError:
        return {}


def write(values: Mapping[str, str], path: Path = ENV_FILE) -> None:
    """Replace the file whole (a reader never sees half of it), readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(render(values))
    os.replace(partial, path)


def postgres_passwords() -> dict[str, str]:
    """A fresh password for every role (URL- and shell-safe: letters, digits, - and _)."""
    return {r.password: secrets.token_urlsafe(24) for r in ROLES}


def postgres_settings(values: Mapping[str, str], port: int = POSTGRES_PORT) -> dict[str, str]:
    """Every role's DSN settings, from its password."""
    return {setting: dsn(r, values[r.password], HOST, port, scheme)
            for r in ROLES for setting, scheme in r.dsns}


def merged(existing: Mapping[str, str], generated: Mapping[str, str],
           derive: Iterable[Derive]) -> dict[str, str]:
    """The file's new content: what it holds, what it lacks of ``generated``, and every
    derived line recomputed. Pure."""
    values = {**existing, **{k: v for k, v in generated.items() if k not in existing}}
    for rule in derive:
        values.update(rule(values))
    return values


@contextlib.contextmanager
def _locked(path: Path):
    # Two first runs at once (a test session and `make demo`) must not generate two sets.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure(generated: Mapping[str, str] | None = None, derive: Iterable[Derive] = (),
           path: Path = ENV_FILE) -> dict[str, str]:
    """The file's values after adding what is missing; writes the file when that changed."""
    with _locked(path):
        existing = read(path)
        legacy = path.with_name(LEGACY_DEMO_ENV.name)
        old = read(legacy) if legacy.exists() else {}
        values = merged({**old, **existing}, {**postgres_passwords(), **(generated or {})},
                        (postgres_settings, *derive))
        if values != existing:
            write(values, path)
        legacy.unlink(missing_ok=True)
        return values


def setting(name: str, path: Path = ENV_FILE, environment: bool = True) -> str:
    """One line of the file. For tools and tests the environment wins, as it does for
    pydantic-settings; the stack itself (``environment=False``) reads its own file only, so
    a shell that sourced another stack's file never points it elsewhere."""
    if environment and (value := os.environ.get(name)):
        return value
    try:
        return read(path)[name]
    except KeyError:
        raise StackError(f"{name} is not in {path}; `make up` writes it") from None


def admin_dsn() -> str:
    """A role that may read every table (the cluster's superuser), for tests and operators."""
    return setting(ADMIN.dsns[0][0])


async def rotate_passwords(keys: Iterable[str], path: Path = ENV_FILE) -> list[str]:
    """New passwords for these roles, set on the running cluster and written to the file.

    The admin's own is changed over its old connection, then written; every other role's
    is written, then set by the roles step (as the admin). The services that read a changed
    setting keep their open connections and need a restart to open new ones.
    """
    import asyncpg

    from infra.roles import apply_roles

    chosen = [role(k) for k in keys]
    fresh = postgres_passwords()
    with _locked(path):
        values = read(path)
        if not values:
            raise StackError(f"{path} does not exist; `make up` writes it")
        if ADMIN in chosen:
            conn = await asyncpg.connect(values[ADMIN.dsns[0][0]])
            try:
                sql = await conn.fetchval("SELECT format('ALTER ROLE CURRENT_USER PASSWORD %L',"
                                          " $1::text)", fresh[ADMIN.password])
                await conn.execute(sql)
            finally:
                await conn.close()
        values.update({r.password: fresh[r.password] for r in chosen})
        values.update(postgres_settings(values))
        write(values, path)
    await apply_roles(values[ADMIN.dsns[0][0]], {r.password: values[r.password] for r in ROLES})
    changed = [name for r in chosen for name, _ in r.dsns]
    return [f"rotated {', '.join(r.name for r in chosen)}; restart what reads "
            f"{', '.join(changed)} (e.g. `make down && make demo`)"]
