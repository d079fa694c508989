#!/usr/bin/env bash
# System packages the tests need: Chromium (e2e), nginx (config test), docker-compose (compose validation),
# PostgreSQL (second test pass). Installs only what is missing; needs root (as on CI and the dev machines).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "Missing system packages: ${need[*]}. Install them (apt-get install ${need[*]}) or run as root." >&2
  exit 1
fi
echo "Installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
