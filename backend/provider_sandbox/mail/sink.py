"""A real SMTP server (aiosmtpd) that accepts every message and keeps it in a Mailbox.

It runs in a thread of its own (aiosmtpd's Controller: its own event loop), so the backend talks real SMTP
to it, as it would to a mail provider, and the sandbox's HTTP loop is never blocked by a slow client.
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from provider_sandbox.mail.mailbox import Mailbox

logger = logging.getLogger(__name__)

# Larger messages are refused (552) rather than stored: ours are a few kilobytes.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class _StoreHandler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        recipients = [str(rcpt) for rcpt in envelope.rcpt_tos]
        try:
            sender = str(envelope.mail_from or "")
            stored = self.mailbox.receive(raw, envelope_from=sender, recipients=recipients)
        except Exception:  # a message we cannot parse is refused, never half-stored
            logger.exception("mail sink: could not parse a message")
            return "554 Transaction failed: unparseable message"
        logger.info("mail sink: received %r for %d recipient(s)", stored.subject, len(recipients))
        return "250 Message accepted for delivery"


class MailSink:
    """`start()` listens on host:port (a real port: aiosmtpd checks it by connecting), `stop()` ends it."""

    def __init__(self, mailbox: Mailbox, *, host: str, port: int) -> None:
        self.mailbox = mailbox
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen; OSError when the port is taken."""
        # A fixed name for the greeting: aiosmtpd would otherwise look up the host's FQDN on every
        # connection (slow where reverse DNS is, e.g. in a container network).
        kwargs: dict[str, Any] = {
            "data_size_limit": MAX_MESSAGE_BYTES,
            "server_hostname": "sandbox-mail-sink",
        }
        controller = Controller(_StoreHandler(self.mailbox), hostname=self.host, port=self.port, **kwargs)
        try:
            controller.start()
        except BaseException:
            controller.loop.close()
            raise
        self._controller = controller
        logger.info("mail sink: SMTP on %s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            # aiosmtpd leaves the loop it made for its thread open (and its self-pipe with it).
            self._controller.loop.close()
            self._controller = None

    def __enter__(self) -> MailSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
