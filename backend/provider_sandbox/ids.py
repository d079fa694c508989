"""Identifier and clock helpers shaped like the providers' own (cs_test_..., evt_..., UUIDs)."""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import UTC, datetime

_ALPHABET = string.ascii_letters + string.digits


def stripe_id(prefix: str, length: int = 24) -> str:
    """A Stripe-style id: prefix plus random letters and digits (cs_test_ ids are long in real Stripe)."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def truemed_id() -> str:
    return str(uuid.uuid4())


def iso(ts: float | None) -> str | None:
    """Truemed timestamps: ISO 8601 with offset."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()
