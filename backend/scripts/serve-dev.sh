#!/usr/bin/env bash
# Development server: migrate, then serve on ${BACKEND_HOST:-127.0.0.1}:${BACKEND_PORT:-8000}.
# Used by `make run` (honcho sets PORT for every process, so the name here is our own) and the e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
PY="${PYTHON:-.venv/bin/python}"
"$PY" manage.py migrate --noinput
exec "$PY" manage.py runserver "${BACKEND_HOST:-127.0.0.1}:${BACKEND_PORT:-8000}" --noreload
