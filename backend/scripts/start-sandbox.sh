#!/usr/bin/env bash
# The offline provider sandbox (Stripe Checkout + Truemed emulator). The container's command for `sandbox`.
# Reads SANDBOX_HOST/SANDBOX_PORT/SANDBOX_PUBLIC_URL/SANDBOX_*_WEBHOOK_URL and the shared webhook secrets
# (see .env.example). Natively: cd backend && PATH=.venv/bin:$PATH scripts/start-sandbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
exec "$PY" -m provider_sandbox "$@"
