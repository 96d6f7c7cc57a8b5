"""The admin page at ``/admin``: one HTML document whose script calls the admin API.

It signs in with an admin credential (kept in the tab's ``sessionStorage`` only), lists
organisations with their quota, the chosen organisation's users with state, reason code,
health and counts, and the audit log; an ``admin`` activates, validates, deactivates and
imports a CSV from it (an ``auditor`` sees no change controls, and the API refuses them
anyway). Every value is inserted as text, never as HTML; a per-response nonce and a
strict Content-Security-Policy allow only the page's own script and style.
"""

from __future__ import annotations

import secrets
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

TEMPLATE = resources.files("hybrid_calendar.admin").joinpath("admin.html").read_text()


def page_routes() -> list[BaseRoute]:
    """``GET /admin``."""

    async def admin_page(request: Request) -> Response:
        nonce = secrets.token_urlsafe(16)
        policy = (f"default-src 'none'; script-src 'nonce-{nonce}'; "
                  f"style-src 'nonce-{nonce}'; connect-src 'self'; img-src 'self' data:; "
                  "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
        return HTMLResponse(TEMPLATE.replace("{{nonce}}", nonce), headers={
            "Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})

    return [Route("/admin", admin_page, methods=["GET"])]
