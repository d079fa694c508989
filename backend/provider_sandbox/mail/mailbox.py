"""The messages the SMTP sink received, parsed into their parts; shared by the sink thread and the pages.

The sink runs on its own event loop in its own thread (aiosmtpd's Controller), the pages on the sandbox's
loop: every access goes through one threading lock.
"""

from __future__ import annotations

import email
import email.policy
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

# The oldest messages are dropped past this many: a demo left running for weeks stays small.
MAX_MESSAGES = 500


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes

    def summary(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type, "size": len(self.content)}


@dataclass(frozen=True)
class StoredEmail:
    id: str
    sender: str  # the From header (the envelope sender if there is none)
    to: list[str]  # the envelope recipients (what the SMTP client asked to deliver to)
    subject: str
    received_at: datetime
    text: str
    html: str
    attachments: list[Attachment]
    raw: bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.sender,
            "to": list(self.to),
            "subject": self.subject,
            "received_at": self.received_at.isoformat().replace("+00:00", "Z"),
            "text": self.text,
            "html": self.html,
            "attachments": [attachment.summary() for attachment in self.attachments],
        }


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != f"text/{subtype}":
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


def parse_message(
    raw: bytes, *, envelope_from: str, recipients: list[str], received_at: datetime
) -> StoredEmail:
    """Split one message as a mail client would: plain text, HTML and attachments (any MIME layout)."""
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    attachments = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        attachments.append(
            Attachment(
                filename=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                content=payload if isinstance(payload, bytes) else b"",
            )
        )
    return StoredEmail(
        id=uuid.uuid4().hex,
        sender=str(message.get("From", "")) or envelope_from,
        to=list(recipients),
        subject=str(message.get("Subject", "")),
        received_at=received_at,
        text=_body(message, "plain"),
        html=_body(message, "html"),
        attachments=attachments,
        raw=raw,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Mailbox:
    """Received messages, newest first. Made empty by the sandbox's reset (it is one of its stores)."""

    clock: Callable[[], datetime] = _utc_now
    limit: int = MAX_MESSAGES
    _messages: list[StoredEmail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, raw: bytes, *, envelope_from: str, recipients: list[str]) -> StoredEmail:
        stored = parse_message(
            raw, envelope_from=envelope_from, recipients=recipients, received_at=self.clock()
        )
        with self._lock:
            self._messages.insert(0, stored)
            del self._messages[self.limit :]
        return stored

    def messages(self) -> list[StoredEmail]:
        with self._lock:
            return list(self._messages)

    def get(self, message_id: str) -> StoredEmail | None:
        with self._lock:
            return next((m for m in self._messages if m.id == message_id), None)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
