"""Sign-in links: a one-time code turned into a browser session cookie.

``GET /me/sign-in?code=…`` shows a one-button form (link scanners that fetch the URL do
not use the code up); ``POST /me/sign-in`` uses the code once, issues a session
(``people.session_days``) and sets it as an HttpOnly, SameSite=Lax cookie, then redirects
to ``/me``. ``POST /me/sign-out`` revokes the session. A wrong, used, expired or revoked
code answers 401.

A sign-in posted from another site answers 403 and leaves the code unused: else a page
elsewhere could sign a visitor's browser in with a code of its author's (login CSRF),
and show them the author's meetings and Join buttons as their own. The browser says where
a form came from (``Sec-Fetch-Site``; else ``Origin``, compared with ``Host``); a client
that says neither (not a browser) is not refused. Sign-out needs no such check: its
SameSite=Lax cookie does not go with another site's ``POST``.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hybrid_calendar.people import access
from hybrid_calendar.people.auth import SESSION_COOKIE, Principal, personal, unauthorized

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in — meetings</title></head>
<body><main><h1>Sign in to your meetings</h1>
<form method="post" action="/me/sign-in">
<input type="hidden" name="code" value="{code}">
<button type="submit">Sign in</button></form></main></body></html>
"""


def from_another_site(request: Request) -> bool:
    """Whether the browser says this request comes from a page of another site:
    ``Sec-Fetch-Site`` when it sends it (every current browser does), else an ``Origin``
    whose host is not the request's ``Host``. (Our own sign-in form is served with
    ``Referrer-Policy: no-referrer``, so its posts may carry ``Origin: null``: that says
    nothing either way.)"""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return False
    try:
        return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()
    except ValueError:
        return True


def signin_routes(gateway: Gateway) -> list[BaseRoute]:
    """The sign-in and sign-out routes."""
    secure = str(gateway.config.get("gateway", "public_url")).startswith("https:")

    async def form(request: Request) -> Response:
        code = request.query_params.get("code", "")
        if await access.authenticate(gateway, code, kinds=("link",)) is None:
            raise unauthorized("this sign-in link is not valid (used, expired or revoked)")
        return HTMLResponse(_FORM.format(code=html.escape(code)),
                            headers={"Cache-Control": "no-store",
                                     "Referrer-Policy": "no-referrer"})

    async def sign_in(request: Request) -> Response:
        if from_another_site(request):
            raise HTTPException(403, "sign in from the link's own page, not from another site")
        fields = parse_qs((await request.body())[:4096].decode("latin-1"))
        code = (fields.get("code") or [""])[0]
        link = await access.consume_link(gateway, code)
        if link is None:
            raise unauthorized("this sign-in link is not valid (used, expired or revoked)")
        days = float(gateway.config.get("people", "session_days"))
        session = await access.issue(gateway, link.user_id, kind="session",
                                     audience=link.audience, ttl=timedelta(days=days),
                                     label="browser session", parent_id=link.id)
        response = RedirectResponse("/me", status_code=303)
        response.set_cookie(SESSION_COOKIE, session.secret, max_age=int(days * 86400),
                            httponly=True, samesite="lax", secure=secure, path="/")
        return response

    async def sign_out(request: Request, who: Principal) -> Response:
        await access.revoke(gateway, who.access.id)
        response = RedirectResponse("/me/signed-out", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def signed_out(request: Request) -> Response:
        return HTMLResponse("<!doctype html><html lang=en><title>Signed out</title>"
                            "<p>You are signed out.</p></html>")

    return [
        Route("/me/sign-in", form, methods=["GET"]),
        Route("/me/sign-in", sign_in, methods=["POST"]),
        Route("/me/sign-out", personal(gateway, sign_out), methods=["POST"]),
        Route("/me/signed-out", signed_out, methods=["GET"]),
    ]
