"""Emails go over real SMTP to the sandbox's mail sink, started on a free port for each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testing.mail import Sink, point_django_at, smtp_sink


@pytest.fixture
def mail_sink(settings: Any) -> Iterator[Sink]:
    with smtp_sink() as sink:
        point_django_at(settings, sink.port)
        yield sink
