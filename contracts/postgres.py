"""What every PostgreSQL connection setting must hold, checked the same way by each service.

Every service connects as its own role with its own password (infra/roles.py lists them;
the README's "Roles and principals" shows their grants), so a DSN without a password, or
with the placeholder that ``.env.example`` ships, is a configuration error: the settings
classes call ``check_dsn`` in a validator, so the service stops at startup naming the
setting. Pure functions; the messages never quote the value, which holds a secret.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

__all__ = ["LAKE_CATALOG_SCHEMA", "MIN_PASSWORD_LENGTH", "check_catalog_uri", "check_dsn",
           "check_password", "is_placeholder"]

# The schema that holds the Iceberg SQL catalog's tables; the batch role owns what it
# creates there, and its search_path (set with the role) puts the catalog there.
LAKE_CATALOG_SCHEMA = "lakehouse"
# Generated passwords have 32+ characters; a short one is typed, not generated.
MIN_PASSWORD_LENGTH = 16
# .env.example's values say "replace_me"; copying the file unedited must not start anything.
_PLACEHOLDER_MARK = "replace_me"
_PLACEHOLDERS = frozenset({"changeme", "change-me", "password", "postgres", "payments",
                           "secret", "todo"})
POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_placeholder(value: str) -> bool:
    """A value copied from a template or typed to fill a slot, not a generated secret."""
    lowered = value.lower()
    return lowered in _PLACEHOLDERS or _PLACEHOLDER_MARK in lowered


def check_password(name: str, password: str) -> str:
    """Refuse an empty, placeholder or short password; ``name`` is the setting's."""
    if not password:
        raise ValueError(f"{name} holds no password; every role signs in with one")
    if is_placeholder(password):
        raise ValueError(f"{name} holds a placeholder password, not a generated one")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"{name}: the password must be at least {MIN_PASSWORD_LENGTH} "
                         f"characters; it has {len(password)}")
    return password


def check_dsn(name: str, value: str, schemes: tuple[str, ...] = POSTGRES_SCHEMES) -> str:
    """A ``scheme://role:password@host:port/database`` URL whose password passes
    ``check_password``; returned stripped. ``schemes`` are the accepted URL schemes."""
    value = value.strip()
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - parses the port: a bad one raises ValueError here
    except ValueError:
        raise ValueError(f"{name} is not a URL of the form {schemes[0]}://role:password@host/"
                         "database") from None
    if url.scheme not in schemes:
        raise ValueError(f"{name} must start {' or '.join(s + '://' for s in schemes)}")
    if not url.username:
        raise ValueError(f"{name} names no role (expected {schemes[0]}://role:password@...)")
    if not url.path.strip("/"):
        raise ValueError(f"{name} names no database")
    check_password(name, unquote(url.password or ""))
    return value


def check_catalog_uri(name: str, value: str) -> str:
    """An Iceberg catalog URI: held to ``check_dsn`` when it is PostgreSQL's (a SQL catalog,
    e.g. ``postgresql+psycopg2://``); any other (a REST catalog's http URL) as it is."""
    scheme = value.strip().partition("://")[0]
    if scheme.startswith("postgres"):
        return check_dsn(name, value, (scheme,))
    if not value.strip():
        raise ValueError(f"{name} is empty")
    return value.strip()
