"""A provider's notification as the sandbox keeps it: built once, then delivered (and replayed) byte for byte.

Each provider says how its webhooks travel (a `WebhookTarget`); `webhooks.py` only sends, retries and logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Provider = Literal["stripe", "truemed"]


@dataclass(frozen=True)
class WebhookTarget:
    """Where one provider delivers and what it accepts as delivered.

    `headers(body, unix_time)` is called for every attempt: providers sign each attempt afresh.
    """

    url: str
    headers: Callable[[bytes, int], dict[str, str]]
    accepted: Callable[[int], bool]


@dataclass
class WebhookEvent:
    """One notification a provider generated. `body` is kept verbatim so a replay is byte-identical."""

    provider: Provider
    event_id: str
    event_type: str
    session_id: str
    status: str
    body: bytes
    created: int
    target: WebhookTarget
