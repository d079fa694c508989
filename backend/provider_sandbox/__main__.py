"""`python -m provider_sandbox`: serve the sandbox on SANDBOX_HOST:SANDBOX_PORT, and its mail sink's SMTP
server on SANDBOX_HOST:SANDBOX_SMTP_PORT (default 1025; 0: none)."""

from __future__ import annotations

import logging
import os
import socket
import sys

import uvicorn

from provider_sandbox.app import create_app
from provider_sandbox.config import ConfigError, SandboxConfig
from provider_sandbox.mail.mailbox import Mailbox
from provider_sandbox.mail.sink import MailSink
from provider_sandbox.store import SandboxState

logger = logging.getLogger("provider_sandbox")


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Every webhook attempt is logged by the sandbox itself; httpx's own line per request is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = SandboxConfig.from_env()
    except ConfigError as exc:
        logger.error("invalid sandbox configuration: %s", exc)
        return 2
    app = create_app(config)
    state: SandboxState = app.state.sandbox
    server = _Server(
        uvicorn.Config(
            app, host=config.host, port=config.port, log_level="warning", timeout_graceful_shutdown=2
        ),
        state,
    )
    try:
        sink = _start_mail_sink(config, state, explicit=bool(os.environ.get("SANDBOX_SMTP_PORT", "").strip()))
    except OSError as exc:
        logger.error("mail sink: cannot listen on %s:%d: %s", config.host, config.smtp_port, exc)
        return 2
    try:
        server.run()
    finally:
        if sink is not None:
            sink.stop()
    return 0


def _start_mail_sink(config: SandboxConfig, state: SandboxState, *, explicit: bool) -> MailSink | None:
    """The SMTP sink, or None when there is none; OSError when a port asked for explicitly is taken.

    The default port (1025) may be held by another sandbox on the machine (a `make run` beside a test
    run): then the sandbox serves without a sink and says so, rather than not starting at all.
    """
    if not config.smtp_port:
        return None
    sink = MailSink(state.store(Mailbox), host=config.host, port=config.smtp_port)
    try:
        sink.start()
    except OSError as exc:
        if explicit:
            raise
        logger.warning(
            "mail sink: port %d is taken (%s); serving without a mail sink (set SANDBOX_SMTP_PORT)",
            config.smtp_port,
            exc,
        )
        return None
    return sink


class _Server(uvicorn.Server):
    """Answers requests held by an injected timeout before waiting for open connections to finish."""

    def __init__(self, config: uvicorn.Config, state: SandboxState) -> None:
        super().__init__(config)
        self._state = state

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._state.release_held()
        await super().shutdown(sockets)


if __name__ == "__main__":
    sys.exit(main())
