#!/usr/bin/env python3
"""Check our unverified Truemed assumptions against Truemed's real sandbox, once, and print which hold.

Every guess the adapter makes lives in backend/sofia_checkout/payments/providers/truemed/assumptions.py;
this script exercises each one against https://dev-api.truemed.com with real sandbox keys. It cannot run on
the offline build machines (no route to Truemed); run it from a machine with internet access:

    TRUEMED_API_KEY=... python3 scripts/verify-truemed-sandbox.py
    # optional, destructive for the named session: refund 1 cent of a captured sandbox session
    TRUEMED_API_KEY=... python3 scripts/verify-truemed-sandbox.py --refund-session <captured-session-id>
    # optional: check a webhook delivery saved from the dashboard (raw body + headers as JSON)
    python3 scripts/verify-truemed-sandbox.py --webhook-body body.json --webhook-headers headers.json \
        --webhook-secret <secret> --offline

Exit status: 0 when every checked assumption holds, 1 when one fails, 2 on bad usage.
"""

# A command-line checker: it prints its verdicts, and its checks are plain asserts whose messages it reports.
# ruff: noqa: T201, S101, PT018

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from sofia_checkout.payments.providers.truemed import assumptions

SANDBOX = "https://dev-api.truemed.com"
RESULTS: list[tuple[str, str, str]] = []


def record(name: str, verdict: str, detail: str) -> None:
    RESULTS.append((name, verdict, detail))
    print(f"{verdict:8} {name}: {detail}", flush=True)


def check(name: str) -> Callable[[Callable[..., str]], Callable[..., None]]:
    """Run one check: it returns a detail string when the assumption holds and raises AssertionError when
    it does not; anything else means it could not be decided."""

    def wrap(fn: Callable[..., str]) -> Callable[..., None]:
        def run(*args: Any) -> None:
            try:
                record(name, "HOLDS", fn(*args))
            except AssertionError as exc:
                record(name, "FAILS", str(exc))
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                record(name, "UNKNOWN", f"{type(exc).__name__}: {exc}")

        return run

    return wrap


def create_body(key: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "total_amount": 100,
        "order_items": [{"sku": "verify", "name": "Assumption check", "price": 100, "quantity": 1}],
        "success_url": "https://example.invalid/return?truemed_session_id={{payment_session_id}}",
        "failure_url": "https://example.invalid/cancelled",
        "idempotency_key": key,
        "customer_email": "assumption-check@example.invalid",
        "customer_name": "Assumption Check",
        "customer_state": "CA",
        "metadata": json.dumps({"payment_session_id": "verify-script"}),
    }
    if assumptions.SEND_ZERO_AMOUNT_DETAILS:
        body["amount_details"] = {"total_additional_charges": 0, "total_discounts": 0}
    return body


def session_path(session_id: str, template: str = assumptions.SESSION_PATH) -> str:
    return template.format(id=session_id)


@check("create path and body (CREATE_PATH, SEND_ZERO_AMOUNT_DETAILS, metadata as a string)")
def check_create(http: httpx.Client, state: dict[str, Any]) -> str:
    key = f"sofia-verify-{uuid.uuid4()}"
    response = http.post(assumptions.CREATE_PATH, json=create_body(key))
    assert response.status_code == 200, f"HTTP {response.status_code}: {response.text[:300]}"
    payload = response.json()
    assert isinstance(payload.get("id"), str), f"no id in {payload}"
    assert isinstance(payload.get("redirect_url"), str), f"no redirect_url in {payload}"
    state.update(session_id=payload["id"], key=key)
    return f"session {payload['id']}"


@check("session id shape (SESSION_ID_PATTERN)")
def check_id_shape(http: httpx.Client, state: dict[str, Any]) -> str:
    session_id = state["session_id"]
    assert re.fullmatch(assumptions.SESSION_ID_PATTERN, session_id), f"{session_id!r} does not match"
    return session_id


@check("idempotency: the same key returns the same session")
def check_idempotency(http: httpx.Client, state: dict[str, Any]) -> str:
    again = http.post(assumptions.CREATE_PATH, json=create_body(state["key"]))
    assert again.status_code == 200, f"HTTP {again.status_code}: {again.text[:300]}"
    assert again.json().get("id") == state["session_id"], f"new session {again.json().get('id')}"
    return "same id"


@check("read path (SESSION_PATH), pending status, metadata echoed")
def check_read(http: httpx.Client, state: dict[str, Any]) -> str:
    payload = http.get(session_path(state["session_id"])).json()
    assert payload.get("status") == "pending", f"status {payload.get('status')!r}"
    metadata = payload.get("metadata")
    assert isinstance(metadata, str) and "verify-script" in metadata, f"metadata {metadata!r}"
    return f"status_summary={payload.get('status_summary')!r}"


@check("cancel path (CANCEL_PATH) turns a pending session canceled")
def check_cancel(http: httpx.Client, state: dict[str, Any]) -> str:
    response = http.post(session_path(state["session_id"], assumptions.CANCEL_PATH), json={})
    assert response.status_code < 300, f"HTTP {response.status_code}: {response.text[:300]}"
    status = http.get(session_path(state["session_id"])).json().get("status")
    assert status in {"canceled", "cancelled"}, f"status after cancel {status!r}"
    return f"status {status}"


@check("error body shape {error, message} on a refused create")
def check_error_shape(http: httpx.Client, state: dict[str, Any]) -> str:
    body = create_body(f"sofia-verify-{uuid.uuid4()}")
    body["total_amount"] = 101  # does not equal the items' sum
    response = http.post(assumptions.CREATE_PATH, json=body)
    assert 400 <= response.status_code < 500, f"HTTP {response.status_code}"
    payload = response.json()
    assert isinstance(payload, dict) and "error" in payload, f"body {payload}"
    return f"HTTP {response.status_code} error={payload.get('error')!r}"


@check("unknown session id answers 4xx")
def check_unknown(http: httpx.Client, state: dict[str, Any]) -> str:
    response = http.get(session_path(str(uuid.uuid4())))
    assert 400 <= response.status_code < 500, f"HTTP {response.status_code}"
    return f"HTTP {response.status_code} {response.text[:120]}"


@check("a wrong API key answers 401/403 (LEGACY_KEY_HEADER is the auth header)")
def check_auth(base: str) -> str:
    with httpx.Client(base_url=base, headers={assumptions.LEGACY_KEY_HEADER: "wrong"}, timeout=20) as bad:
        response = bad.get(session_path(str(uuid.uuid4())))
    assert response.status_code in {401, 403}, f"HTTP {response.status_code}"
    return f"HTTP {response.status_code}"


@check("refund path (REFUND_PATH) and answer {refund_id}")
def check_refund(http: httpx.Client, session_id: str) -> str:
    response = http.post(
        assumptions.REFUND_PATH,
        json={
            "amount": 1,
            "idempotency_key": f"sofia-verify-refund-{uuid.uuid4()}",
            "payment_id": session_id,
            "reason": assumptions.REFUND_REASON,
        },
    )
    assert response.status_code < 300, f"HTTP {response.status_code}: {response.text[:300]}"
    assert "refund_id" in response.json(), f"body {response.json()}"
    summary = http.get(session_path(session_id)).json().get("status_summary")
    expected = assumptions.REFUNDED_SUMMARIES
    return f"refund_id present; status_summary now {summary!r} (we expect one of {expected})"


@check("webhook delivery: session id field, event type prefix, signature grammar")
def check_webhook(body_file: str, headers_file: str, secret: str) -> str:
    raw = Path(body_file).read_bytes()
    headers = {k.lower(): v for k, v in json.loads(Path(headers_file).read_text()).items()}
    payload = json.loads(raw)
    data = payload.get("data", payload)
    field = next((f for f in assumptions.WEBHOOK_SESSION_ID_FIELDS if data.get(f)), None)
    assert field is not None, f"none of {assumptions.WEBHOOK_SESSION_ID_FIELDS} in {sorted(data)}"
    notes = [f"id field {field!r}"]
    if "event_type" in payload:
        event = str(payload["event_type"])
        assert event.startswith(assumptions.PAYMENT_EVENT_PREFIX), f"event_type {event!r}"
        notes.append(f"event_type {event!r}")
    signature = headers.get(assumptions.SIGNATURE_HEADER)
    if signature:
        parts = dict(p.split("=", 1) for p in signature.split(",") if "=" in p)
        assert "t" in parts and "v1" in parts, f"header {signature!r} is not t=..,v1=.."
        expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, parts["v1"]), "v1 is not HMAC-SHA256 of '{t}.{body}'"
        notes.append("signature grammar and HMAC hold")
    elif assumptions.LEGACY_KEY_HEADER in headers:
        assert headers[assumptions.LEGACY_KEY_HEADER] == secret, "legacy header is not the shared secret"
        notes.append("legacy header carries the shared secret")
    return ", ".join(notes)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default=os.environ.get("TRUEMED_API_BASE", SANDBOX))
    parser.add_argument("--refund-session", help="a captured sandbox session id to refund 1 cent of")
    parser.add_argument("--webhook-body")
    parser.add_argument("--webhook-headers")
    parser.add_argument("--webhook-secret", default=os.environ.get("TRUEMED_WEBHOOK_SECRET", ""))
    parser.add_argument("--offline", action="store_true", help="only check the saved webhook delivery")
    args = parser.parse_args()
    if "api.truemed.com" in args.base and "dev-api" not in args.base:
        print("Refusing to run against production: use the sandbox (dev-api.truemed.com).", file=sys.stderr)
        return 2
    if args.offline and not (args.webhook_body and args.webhook_headers):
        print(
            "--offline checks a saved delivery: pass --webhook-body and --webhook-headers.", file=sys.stderr
        )
        return 2
    if not args.offline:
        key = os.environ.get("TRUEMED_API_KEY", "")
        if not key:
            print("Set TRUEMED_API_KEY to a Truemed sandbox key.", file=sys.stderr)
            return 2
        state: dict[str, Any] = {}
        with httpx.Client(
            base_url=args.base, headers={assumptions.LEGACY_KEY_HEADER: key}, timeout=20
        ) as http:
            check_create(http, state)
            if "session_id" in state:
                check_id_shape(http, state)
                check_idempotency(http, state)
                check_read(http, state)
                check_cancel(http, state)
            check_error_shape(http, state)
            check_unknown(http, state)
            if args.refund_session:
                check_refund(http, args.refund_session)
        check_auth(args.base)
    if args.webhook_body and args.webhook_headers:
        check_webhook(args.webhook_body, args.webhook_headers, args.webhook_secret)
    failed = [name for name, verdict, _ in RESULTS if verdict != "HOLDS"]
    print(f"\n{len(RESULTS) - len(failed)} of {len(RESULTS)} assumptions hold.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
