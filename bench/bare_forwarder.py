"""The floor under the create-session rows of `make bench`: a WSGI app that does nothing but forward.

Each POST makes one Stripe Checkout session at the sandbox with the backend's own Stripe adapter and answers
its id and URL as JSON: no Django, no middleware, no database, no rate limit, no token. http_bench.py serves
it with the production server's gunicorn and gunicorn.conf.py (same workers, threads and logging) and
times it like the real endpoint, so the difference is what the product's own work costs, and this app's
figure is what any create endpoint served this way would add before doing any work at all.

Environment: STRIPE_API_BASE (the sandbox's /stripe). Bench code only; nothing in the product imports it.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from create_session_overhead import STRIPE_KEY, STRIPE_WHSEC
from sandbox_roundtrip_bench import request as bench_request

from sofia_checkout.payments.providers.stripe_checkout.adapter import StripeCheckoutProvider

# One adapter per process, built once and reused (keep-alive), as the backend's registry does.
_ADAPTER = StripeCheckoutProvider(
    secret_key=STRIPE_KEY,
    webhook_secret=STRIPE_WHSEC,
    api_base=os.environ["STRIPE_API_BASE"],
    timeout=30,
    max_retries=0,
)
_NUMBERS = itertools.count()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] != "POST":  # readiness probe
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    session = _ADAPTER.create_session(bench_request(next(_NUMBERS)))
    body = json.dumps({"id": session.provider_session_id, "url": session.redirect_url}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
