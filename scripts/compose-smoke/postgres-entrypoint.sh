#!/bin/bash
# Entrypoint of the local PostgreSQL base (scripts/compose-smoke/bases.sh): the subset of the official
# postgres image's docker-entrypoint.sh that docker-compose.yml relies on.
#  - POSTGRES_PASSWORD (required), POSTGRES_USER (default postgres), POSTGRES_DB (default $POSTGRES_USER),
#    PGDATA (default /var/lib/postgresql/data), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD
#    (default scram-sha-256): on an empty data directory, initdb with that superuser and password, then
#    create the database;
#  - started as root, it fixes the data directory's owner and drops to the postgres user;
#  - listens on every address; local socket connections are trusted (pg_isready, psql in the container).
# Not supported: /docker-entrypoint-initdb.d scripts, POSTGRES_*_FILE variants.
set -Eeuo pipefail

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export PGDATA

if [ "${1:-postgres}" != "postgres" ]; then
  exec "$@"
fi
[ $# -gt 0 ] && shift

if [ "$(id -u)" = "0" ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 2775 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" postgres "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != "trust" ]; then
    echo "postgres-entrypoint: POSTGRES_PASSWORD is not set (the database would be unreachable)" >&2
    exit 1
  fi
  echo "postgres-entrypoint: initialising $PGDATA for user '$POSTGRES_USER', database '$POSTGRES_DB'"
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of arguments, as in the official image
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
    ${POSTGRES_INITDB_ARGS:-} >/dev/null
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [ "$POSTGRES_DB" != "postgres" ]; then
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres --set db="$POSTGRES_DB" \
      <<<'CREATE DATABASE :"db";' >/dev/null
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres-entrypoint: ready for start up"
fi

exec postgres "$@"
