"""A real SMTP server for tests: the provider sandbox's mail sink on a free port, and Django pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from provider_sandbox.mail.mailbox import Mailbox, StoredEmail
from provider_sandbox.mail.sink import MailSink
from testing.net import free_port, wait_until


@dataclass
class Sink:
    port: int
    mailbox: Mailbox

    def messages(self) -> list[StoredEmail]:
        """Newest first."""
        return self.mailbox.messages()

    def wait_for(self, count: int, timeout: float = 10) -> list[StoredEmail]:
        wait_until(lambda: len(self.messages()) >= count, timeout, f"{count} email(s) in the sink")
        return self.messages()


def point_django_at(settings: Any, port: int) -> None:
    """Django's SMTP backend to 127.0.0.1:port (pytest-django's default is the in-memory backend)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 3


@contextmanager
def smtp_sink(port: int | None = None) -> Iterator[Sink]:
    """The sandbox's SMTP sink listening on `port` (a free one by default) until the block ends."""
    sink = Sink(port or free_port(), Mailbox())
    with MailSink(sink.mailbox, host="127.0.0.1", port=sink.port):
        yield sink
