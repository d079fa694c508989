#!/usr/bin/env bash
# Start the local PostgreSQL cluster and make the test role/database; prints the DATABASE_URL to use.
set -euo pipefail
PG_VERSION="${PG_VERSION:-$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)}"
if [ -z "$PG_VERSION" ]; then
  echo "PostgreSQL is not installed (scripts/install-system-deps.sh installs it)." >&2
  exit 1
fi
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  pg_ctlcluster "$PG_VERSION" main start >&2
fi
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q" && break
  sleep 0.5
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='sofia'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE sofia LOGIN PASSWORD 'sofia' CREATEDB\"" >&2
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='sofia'\"" | grep -q 1 \
  || su postgres -c "createdb -O sofia sofia" >&2
echo "postgres://sofia:sofia@127.0.0.1:5432/sofia"
