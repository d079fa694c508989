"""Authenticating Truemed webhooks: the legacy shared-key header or the signed header. Constant-time."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from sofia_checkout.payments.providers.base import WebhookAuthError
from sofia_checkout.payments.providers.truemed import assumptions


def _header(headers: Mapping[str, str], name: str) -> str:
    return headers.get(name) or headers.get(name.title()) or headers.get(name.upper()) or ""


def verify_legacy(headers: Mapping[str, str], secret: str) -> None:
    supplied = _header(headers, assumptions.LEGACY_KEY_HEADER)
    if not supplied or not hmac.compare_digest(supplied.encode(), secret.encode()):
        raise WebhookAuthError("x-truemed-api-key missing or wrong")


def verify_signed(headers: Mapping[str, str], body: bytes, secret: str, *, now: float | None = None) -> None:
    header = _header(headers, assumptions.SIGNATURE_HEADER)
    timestamp = ""
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if not timestamp.isdigit() or not signatures:
        raise WebhookAuthError("x-truemed-signature missing or malformed")
    age = (now if now is not None else time.time()) - int(timestamp)
    if abs(age) > assumptions.SIGNATURE_TOLERANCE_SECONDS:
        raise WebhookAuthError("x-truemed-signature timestamp outside tolerance")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookAuthError("x-truemed-signature does not match")
