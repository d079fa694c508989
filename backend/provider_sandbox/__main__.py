"""`python -m provider_sandbox`: serve the sandbox on SANDBOX_HOST:SANDBOX_PORT."""

from __future__ import annotations

import logging
import os
import socket
import sys

import uvicorn

from provider_sandbox.app import create_app
from provider_sandbox.config import ConfigError, SandboxConfig
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
    server.run()
    return 0


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
