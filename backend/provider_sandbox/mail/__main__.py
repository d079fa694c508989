"""`python -m provider_sandbox.mail`: the mail sink alone (SMTP + its pages), without the payment emulators.

The compose smoke test runs this in place of Mailpit, whose image cannot be pulled on machines without a
container registry (docker-compose.local-bases.yml): SMTP on SANDBOX_HOST:SANDBOX_SMTP_PORT (1025) and the
pages (`/_sandbox/emails`, `/_sandbox/emails.json`, `/_sandbox/health`) on SANDBOX_HOST:SANDBOX_PORT.
"""

from __future__ import annotations

import logging
import os
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from provider_sandbox.mail import pages
from provider_sandbox.mail.mailbox import Mailbox
from provider_sandbox.mail.sink import MailSink


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    host = os.environ.get("SANDBOX_HOST", "").strip() or "127.0.0.1"
    smtp_port = int(os.environ.get("SANDBOX_SMTP_PORT", "").strip() or "1025")
    http_port = int(os.environ.get("SANDBOX_PORT", "").strip() or "8025")
    mailbox = Mailbox()
    app = Starlette(
        routes=[
            Route("/_sandbox/health", _health, methods=["GET"]),
            *pages.routes(mailbox, smtp_address=f"{host}:{smtp_port}"),
        ]
    )
    with MailSink(mailbox, host=host, port=smtp_port):
        uvicorn.run(app, host=host, port=http_port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
