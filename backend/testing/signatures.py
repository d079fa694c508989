"""Webhook signature headers as the providers build them: `t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`.

Stripe documents this grammar; for Truemed's signed mode it is our assumption (see truemed/assumptions.py).
"""

from __future__ import annotations

import hashlib
import hmac
import time


def timestamped_hmac_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value for `body`, signed with `secret` at `timestamp` (now by default)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"
