#!/usr/bin/env bash
# Provider knowledge lives only in backend/sofia_checkout/payments/providers/: no other product module may
# name Stripe or Truemed (their SDK, statuses, URL placeholders or quirks). Tests and migrations excepted;
# settings (config/) and the sandbox are outside sofia_checkout and register or emulate the providers.
set -euo pipefail
cd "$(dirname "$0")/../backend/sofia_checkout"
found=$(grep -rniE 'stripe|truemed|CHECKOUT_SESSION_ID' --include='*.py' . \
  | grep -vE '^\./payments/providers/|/tests/|/migrations/' || true)
if [ -n "$found" ]; then
  echo "Provider specifics outside payments/providers/ (move them behind the adapter interface):" >&2
  echo "$found" >&2
  exit 1
fi
echo "provider boundary: clean"
