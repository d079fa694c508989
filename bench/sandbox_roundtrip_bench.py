"""Benchmark: the real provider adapters against the running offline sandbox, over real HTTP.

Starts `python -m provider_sandbox` on a free port, then times create / retrieve / cancel through the stripe
SDK and the httpx Truemed client, and a forced payment whose webhook goes nowhere. Prints figures; asserts
nothing. Run: `make bench`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

BACKEND = Path(__file__).resolve().parent.parent / "backend"
sys.path.insert(0, str(BACKEND))

from timing import summary  # noqa: E402  (bench/ is on sys.path: the script's own folder)

from sofia_checkout.payments.providers.base import CreateSessionRequest  # noqa: E402
from sofia_checkout.payments.providers.stripe_checkout.adapter import StripeCheckoutProvider  # noqa: E402
from sofia_checkout.payments.providers.truemed.adapter import TruemedProvider  # noqa: E402
from testing.net import free_port, wait_until  # noqa: E402

N = int(os.environ.get("BENCH_N", "200"))
KEY, WHSEC, TM_KEY, TM_WHSEC = "sk_test_bench", "whsec_bench", "tm_bench_key", "tm_bench_whsec"


def start_sandbox() -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    nowhere = f"http://127.0.0.1:{free_port()}"  # webhooks are not what is measured here
    env = {
        **os.environ,
        "SANDBOX_PORT": str(port),
        "SANDBOX_STRIPE_WEBHOOK_URL": f"{nowhere}/stripe",
        "SANDBOX_TRUEMED_WEBHOOK_URL": f"{nowhere}/truemed",
        "SANDBOX_WEBHOOK_MAX_ATTEMPTS": "1",
        # Raw round-trip speed, not the providers' request limits (rate_limit_bench.py measures those).
        "SANDBOX_STRIPE_RATE_LIMIT": "0",
        "SANDBOX_STRIPE_ENDPOINT_RATE_LIMIT": "0",
        "SANDBOX_TRUEMED_RATE_LIMIT": "0",
        "SANDBOX_TRUEMED_ENDPOINT_RATE_LIMIT": "0",
        "STRIPE_WEBHOOK_SECRET": WHSEC,
        "TRUEMED_API_KEY": TM_KEY,
        "TRUEMED_WEBHOOK_SECRET": TM_WHSEC,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "provider_sandbox"],
        cwd=BACKEND,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, timeout=20, what="the sandbox to start", interval=0.05)
    except AssertionError as exc:
        process.kill()
        raise SystemExit("the sandbox did not start") from exc
    return url, process


def request(i: int) -> CreateSessionRequest:
    return CreateSessionRequest(
        payment_session_id=str(uuid.uuid4()),
        appointment_id=str(uuid.uuid4()),
        idempotency_key=f"bench-{uuid.uuid4()}",
        amount_cents=15000,
        currency="usd",
        sku="initial_consultation",
        description="Initial consultation (60 min) with Dr. Ana Reyes",
        customer_email=f"patient{i}@example.com",
        customer_name="Jane Doe",
        customer_state="CA",
        success_url="http://127.0.0.1:5173/checkout/return?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://127.0.0.1:5173/checkout/cancelled",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


def measure(name: str, fn: Callable[[int], object]) -> None:
    latencies = []
    start = time.perf_counter()
    for i in range(N):
        t0 = time.perf_counter()
        fn(i)
        latencies.append((time.perf_counter() - t0) * 1000)
    print(summary(name, latencies, time.perf_counter() - start))  # noqa: T201


def main() -> None:
    url, process = start_sandbox()
    stripe = StripeCheckoutProvider(
        secret_key=KEY, webhook_secret=WHSEC, api_base=f"{url}/stripe", timeout=10, max_retries=0
    )
    truemed = TruemedProvider(
        api_key=TM_KEY,
        api_base=f"{url}/truemed",
        webhook_secret=TM_WHSEC,
        webhook_mode="legacy",
        timeout=10,
        max_retries=0,
    )
    control = httpx.Client(base_url=url, timeout=30)
    try:
        print(f"sandbox {url}; stripe SDK and httpx Truemed client over loopback HTTP")  # noqa: T201
        stripe_ids: list[str] = []
        truemed_ids: list[str] = []
        measure(
            "stripe create session",
            lambda i: stripe_ids.append(stripe.create_session(request(i)).provider_session_id),
        )
        measure("stripe retrieve session", lambda i: stripe.retrieve_session(stripe_ids[i]))
        measure(
            "truemed create payment session",
            lambda i: truemed_ids.append(truemed.create_session(request(i)).provider_session_id),
        )
        measure("truemed retrieve payment session", lambda i: truemed.retrieve_session(truemed_ids[i]))
        measure("stripe expire session", lambda i: stripe.cancel_session(stripe_ids[i]))
        measure("truemed cancel payment session", lambda i: truemed.cancel_session(truemed_ids[i]))
        paid: list[str] = [stripe.create_session(request(i)).provider_session_id for i in range(N)]
        measure(
            "sandbox: force paid (+1 webhook try)",
            lambda i: control.post(f"/_sandbox/stripe/sessions/{paid[i]}/complete", json={"outcome": "paid"}),
        )
    finally:
        control.close()
        stripe.close()
        truemed.close()
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
