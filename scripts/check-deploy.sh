#!/usr/bin/env bash
# Deployment checks without a Docker engine: compose file valid (docker-compose 1.29), nginx config valid and
# behaving, the containers' start scripts run natively (gunicorn on SQLite), `check --deploy` clean, bad
# configurations refused. With a Docker engine and CHECK_DEPLOY_BUILD=1, also builds both images.
# Needs: docker-compose, nginx (apt-get install docker-compose nginx; scripts/install-system-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in docker-compose nginx; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "check-deploy: '$tool' is missing (apt-get install docker-compose nginx)" >&2
    exit 1
  fi
done

docker-compose -f docker-compose.yml config -q
echo "check-deploy: docker-compose.yml is valid"

(cd backend && .venv/bin/pytest tests/deploy -q)

if [ "${CHECK_DEPLOY_BUILD:-0}" = "1" ]; then
  if docker info >/dev/null 2>&1; then
    docker-compose build
  else
    echo "check-deploy: CHECK_DEPLOY_BUILD=1 but no Docker engine answers; images not built" >&2
    exit 1
  fi
fi
echo "check-deploy: all deployment checks passed"
