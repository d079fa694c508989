"""The mail sink's pages: `/_sandbox/emails` (HTML list), `/_sandbox/emails/{id}` (one message, its parts),
`/_sandbox/emails.json` (GET: every message, newest first; DELETE: clear), attachments and the raw message.

The JSON shape is a contract the end-to-end tests rely on:
`{"emails": [{"id", "from", "to": [...], "subject", "received_at", "text", "html",
"attachments": [{"filename", "content_type", "size"}]}]}`.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from provider_sandbox.mail.mailbox import Mailbox, StoredEmail
from provider_sandbox.pages import Pages

PAGES = Pages(Path(__file__).parent / "templates")
LIST_PATH = "/_sandbox/emails"
JSON_PATH = "/_sandbox/emails.json"
_LINK = re.compile(r"https?://[^\s<>\"']+")


def _not_found() -> Response:
    return JSONResponse({"error": "not_found", "message": "No such email"}, status_code=404)


def routes(mailbox: Mailbox, *, smtp_address: str = "") -> list[Route]:
    """The routes over one mailbox; `smtp_address` (host:port) is shown on the list page."""

    def found(request: Request) -> StoredEmail | None:
        return mailbox.get(request.path_params["email_id"])

    async def listing(request: Request) -> Response:
        context = {
            "provider_label": "Mail sink",
            "emails": mailbox.messages(),
            "smtp": smtp_address,
            "json_url": JSON_PATH,
            "message_url": lambda message_id: f"{LIST_PATH}/{message_id}",
        }
        return PAGES.render(request, "emails.html", context)

    async def as_json(request: Request) -> Response:
        response = JSONResponse({"emails": [message.as_json() for message in mailbox.messages()]})
        response.headers["Cache-Control"] = "no-store"
        return response

    async def clear(request: Request) -> Response:
        mailbox.clear()
        return JSONResponse({"emails": []})

    async def one(request: Request) -> Response:
        message = found(request)
        if message is None:
            return _not_found()
        base = f"{LIST_PATH}/{message.id}"
        context = {
            "provider_label": "Mail sink",
            "message": message,
            "links": list(dict.fromkeys(_LINK.findall(message.text))),
            "list_url": LIST_PATH,
            "raw_url": f"{base}.eml",
            "attachment_url": lambda index: f"{base}/attachments/{index}",
        }
        return PAGES.render(request, "email.html", context)

    async def attachment(request: Request) -> Response:
        message = found(request)
        index = request.path_params["index"]
        if message is None or index >= len(message.attachments):
            return _not_found()
        part = message.attachments[index]
        # Always a download, never rendered by the browser as one of this origin's pages.
        safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", part.filename)
        return Response(
            part.content,
            media_type=part.content_type,
            headers={
                "Content-Disposition": f'attachment; filename="{safe_name}"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def raw(request: Request) -> Response:
        message = found(request)
        if message is None:
            return _not_found()
        return Response(
            message.raw,
            media_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="{message.id}.eml"'},
        )

    return [
        Route(LIST_PATH, listing, methods=["GET"]),
        Route(JSON_PATH, as_json, methods=["GET"]),
        Route(JSON_PATH, clear, methods=["DELETE"]),
        Route(LIST_PATH + "/{email_id:str}.eml", raw, methods=["GET"]),
        Route(LIST_PATH + "/{email_id:str}/attachments/{index:int}", attachment, methods=["GET"]),
        Route(LIST_PATH + "/{email_id:str}", one, methods=["GET"]),
    ]
