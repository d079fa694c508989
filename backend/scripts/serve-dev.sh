#!/usr/bin/env bash
# Development server: migrate, then serve on ${BACKEND_HOST:-127.0.0.1}:${BACKEND_PORT:-8000}.
# Used by `make run` (honcho sets PORT for every process, so the name here is our own) and the e2e tests.
# The production server (gunicorn with gunicorn.conf.py, as scripts/start-backend.sh runs it), reloading its
# workers when the code changes. One worker with many threads by default: the rate limits count in local
# memory unless CACHE_URL/REDIS_URL names a shared Redis, and that is only right for one process.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-1}"
export GUNICORN_THREADS="${GUNICORN_THREADS:-16}"
PY="${PYTHON:-.venv/bin/python}"
"$PY" manage.py migrate --noinput
exec "$PY" -m gunicorn config.wsgi -c gunicorn.conf.py --reload \
  --bind "${BACKEND_HOST:-127.0.0.1}:${BACKEND_PORT:-8000}"
