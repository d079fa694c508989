#!/usr/bin/env bash
# Production start of the API: check the configuration, wait for the database, migrate once, then gunicorn.
# The container's command, and what CI runs natively (backend/tests/deploy), so both are the same thing:
#   cd backend && PATH=.venv/bin:$PATH scripts/start-backend.sh
# Environment: PYTHON (default: python on PATH), WAIT_FOR_DB=1, WAIT_FOR_DB_ATTEMPTS=30, MIGRATE_ON_START=1,
# HOST/PORT/WEB_CONCURRENCY/FORWARDED_ALLOW_IPS (gunicorn.conf.py), and every setting of .env.example.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python}"
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "start-backend: '$PY' not found (put the venv on PATH or set PYTHON)" >&2
  exit 127
fi

if [ "${WAIT_FOR_DB:-1}" = "1" ]; then
  # Also loads the settings: a refused configuration stops here with a one-line reason (exit 2).
  "$PY" scripts/wait-for-db.py
fi

if [ "${MIGRATE_ON_START:-1}" = "1" ]; then
  # One replica per deployment should migrate; with several, set MIGRATE_ON_START=0 and run
  # `python manage.py migrate --noinput` as a release step.
  "$PY" manage.py migrate --noinput
fi

# gunicorn from the same environment as $PY (the venv's, or the image's /opt/venv).
exec "$PY" -m gunicorn config.wsgi -c gunicorn.conf.py
