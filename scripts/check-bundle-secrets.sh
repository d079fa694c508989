#!/usr/bin/env bash
# Fail if the built SPA bundle carries anything that looks like a provider secret.
set -euo pipefail
dist="${1:-frontend/dist}"
[ -d "$dist" ] || { echo "no bundle at $dist (build first)" >&2; exit 1; }
if grep -rEn 'sk_(test|live)_[A-Za-z0-9]|rk_(test|live)_|whsec_[A-Za-z0-9]|tm_sandbox|x-truemed-api-key|STRIPE_SECRET|TRUEMED_API_KEY' "$dist"; then
  echo "secret-looking strings found in the bundle" >&2
  exit 1
fi
echo "bundle secret scan: clean ($(find "$dist" -type f | wc -l) files)"
