#!/bin/sh
# A cluster like the local stack's (infra/postgres_server.py, infra/stack.py): the
# `payments` role owns the `payments` database. Here it needs a password (POSTGRES_PASSWORD),
# as every container reaches it over the bridge; only the local socket is trusted.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  initdb -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --no-locale >/dev/null
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql -v ON_ERROR_STOP=1 -q -U postgres -d postgres \
    -v password="$POSTGRES_PASSWORD" <<'SQL'
CREATE ROLE payments LOGIN CREATEDB PASSWORD :'password';
CREATE DATABASE payments OWNER payments;
SQL
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c max_connections=300 \
  -c shared_buffers=256MB
