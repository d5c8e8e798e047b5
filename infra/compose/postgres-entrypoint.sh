#!/bin/sh
# A cluster like the local stack's (infra/postgres_server.py): every connection, over the
# bridge or the local socket, signs in with its role's password (SCRAM; no trust). initdb
# sets the superuser's password (POSTGRES_ADMIN_PASSWORD); the compose `db-roles` service
# then creates the pipeline's roles and database (python -m infra.roles), as `make up` does.
set -eu
: "${POSTGRES_ADMIN_PASSWORD:?set POSTGRES_ADMIN_PASSWORD}"
case "$POSTGRES_ADMIN_PASSWORD" in
  *replace_me*) echo "POSTGRES_ADMIN_PASSWORD holds the placeholder of .env.example" >&2; exit 2 ;;
esac
if [ "${#POSTGRES_ADMIN_PASSWORD}" -lt 16 ]; then
  echo "POSTGRES_ADMIN_PASSWORD must be at least 16 characters" >&2; exit 2
fi
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_ADMIN_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U postgres --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
    --pwfile="$pwfile" -E UTF8 --no-locale >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c max_connections=300 \
  -c shared_buffers=256MB
