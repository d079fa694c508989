"""Value checks both providers (and the control API) make the same way."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

MAX_URL_LENGTH = 5000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(value: object) -> bool:
    return isinstance(value, str) and _EMAIL.match(value) is not None


def is_http_url(value: str) -> bool:
    """An absolute http(s) URL of a sane length (the only return URLs either provider takes)."""
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and len(value) <= MAX_URL_LENGTH


def json_object(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not JSON or not an object."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
