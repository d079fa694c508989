"""What every hosted page shares: the page frame (templates/), notices, redirects and dollar amounts.

Each provider's pages (stripe/pages.py, truemed/pages.py) render their own templates (their templates/
folder) with this frame. Plain HTML forms, no JavaScript; a payment page is never cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

SHARED_TEMPLATES = Path(__file__).parent / "templates"


def dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class Pages:
    """Renders one provider's pages: its own templates first, then the shared frame and notice."""

    def __init__(self, templates: Path) -> None:
        self.templates = Jinja2Templates(directory=[templates, SHARED_TEMPLATES])

    def render(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        # A payment page is never cached: the back button must show the current state.
        response.headers["Cache-Control"] = "no-store"
        return response

    def notice(
        self,
        request: Request,
        *,
        title: str,
        message: str,
        link: str | None,
        link_text: str = "Return to the merchant",
        status: int = 200,
    ) -> Response:
        context = {"title": title, "message": message, "link": link, "link_text": link_text}
        return self.render(request, "notice.html", context, status)

    def not_found(self, request: Request) -> Response:
        return self.notice(
            request,
            title="Checkout not found",
            message="This checkout link is not valid.",
            link=None,
            link_text="",
            status=404,
        )
