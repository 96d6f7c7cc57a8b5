"""The personal HTTP surface against hostile invites and bodies, revoked or expired
grants and deactivated users on open streams, and unexpected errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.models import Notification, NotificationKind

from .conftest import NOW, meeting, offer, running_stack
from .sse import open_stream

pytestmark = pytest.mark.anyio

HOSTILE_JOIN_URL = "https://zoom.us:443\uff0f/j/1234567890"
"""A link the join parser accepts (it is found in an invite's Location as a Zoom link)
but whose authority ``urllib.parse.urlsplit`` refuses (NFKC turns ``／`` into ``/``)."""


async def test_a_join_link_urlsplit_refuses_does_not_break_the_page(
        tmp_path: Path, clock: ManualClock) -> None:
    """Anyone may invite a user to a meeting with such a Location: while its Join button
    is due, ``/me`` and ``/me/fragment`` answered 500 for that user."""
    from hybrid_calendar.join_info.detect import detect
    from hybrid_calendar.models import CalendarEvent

    found = detect(CalendarEvent(id="e", calendar_id="c", status="confirmed",
                                 summary="x", start=NOW, end=NOW + timedelta(hours=1),
                                 location=HOSTILE_JOIN_URL))
    assert found is not None and found.url == HOSTILE_JOIN_URL  # what the store would hold
    async with running_stack(tmp_path, clock) as stack:
        bob = await stack.add_user("bob")
        await stack.put_meetings(bob, [
            meeting(bob, "m1", "Hostile", NOW + timedelta(minutes=2), url=HOSTILE_JOIN_URL),
            meeting(bob, "m2", "Design review", NOW + timedelta(minutes=3))])
        async with stack.client(await stack.token(bob)) as client:
            for path in ("/me", "/me/fragment"):
                response = await client.get(path)
                assert response.status_code == 200, (path, response.text)
                assert "Design review" in response.text
                assert "Hostile" in response.text


async def test_revoking_a_token_ends_its_open_stream(tmp_path: Path, clock: ManualClock
                                                     ) -> None:
    """A token revoked by an administrator (stolen, or its device lost) kept receiving
    the user's events (Join buttons: titles and join links) on a stream opened before."""
    async with running_stack(tmp_path, clock) as stack:
        bob = await stack.add_user("bob")
        issued = (await stack.admin.post(f"/api/v1/users/{bob.id}/access",
                                         json={"kind": "token"})).json()
        async with stack.client(issued["secret"]) as client, open_stream(client) as events:
            assert await events.until_ping() == []
            revoked = await stack.admin.delete(f"/api/v1/access/{issued['id']}")
            assert revoked.status_code == 200
            await offer(stack, Notification(kind=NotificationKind.PRESENCE, user=bob,
                                            payload={"out_of_office": True}, key="after"))
            with pytest.raises((EOFError, TimeoutError)):
                got = await events.next(limit=3)
                pytest.fail(f"a revoked token still received {got}")


async def test_deactivating_the_user_ends_their_open_stream(tmp_path: Path,
                                                            clock: ManualClock) -> None:
    async with running_stack(tmp_path, clock) as stack:
        bob = await stack.add_user("bob")
        async with stack.client(await stack.token(bob)) as client, \
                open_stream(client) as events:
            assert await events.until_ping() == []
            assert (await stack.admin.delete(f"/api/v1/users/{bob.id}/access")
                    ).status_code == 200
            await offer(stack, Notification(kind=NotificationKind.PRESENCE, user=bob,
                                            payload={"out_of_office": True}, key="after"))
            with pytest.raises((EOFError, TimeoutError)):
                got = await events.next(limit=3)
                pytest.fail(f"a revoked user's stream still received {got}")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "text/csv"])
async def test_deeply_nested_json_is_a_400_whatever_the_content_type(
        tmp_path: Path, clock: ManualClock, content_type: str) -> None:
    """The depth check ran only for ``*json*`` content types, but the endpoints parse the
    body as JSON whatever it says: ``RecursionError``, a 500 and a traceback."""
    async with running_stack(tmp_path, clock) as stack:
        bob = await stack.add_user("bob")
        body = b"[" * 200_000
        for path in (f"/api/v1/users/{bob.id}/access", "/api/v1/organisations",
                     "/api/v1/organisations/org1/webhooks",
                     "/api/v1/organisations/org1/users"):
            response = await stack.admin.post(path, content=body,
                                              headers={"Content-Type": content_type})
            assert response.status_code == 400, (path, response.status_code, response.text)


async def test_an_idle_stream_ends_when_its_token_expires(
        tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without any event, the stream still notices (every ACCESS_CHECK_SECONDS)."""
    from hybrid_calendar.people import stream

    monkeypatch.setattr(stream, "ACCESS_CHECK_SECONDS", 0.2, raising=False)
    async with running_stack(tmp_path, clock) as stack:
        bob = await stack.add_user("bob")
        async with stack.client(await stack.token(bob, days=1)) as client, \
                open_stream(client) as events:
            assert await events.until_ping() == []
            clock.advance(timedelta(days=2))
            with pytest.raises(EOFError):
                await events.next(limit=5)


async def test_an_unexpected_error_answers_with_its_request_id(
        tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 500 says "see the gateway log with this request id" but carried
    ``"request_id": null`` and no ``X-Request-ID`` header, and its log line had no id:
    Starlette's handler for ``Exception`` runs outside the request-id middleware."""
    async with running_stack(tmp_path, clock) as stack:
        async def broken() -> None:
            raise RuntimeError("a bug")
        monkeypatch.setattr(stack.gateway.store, "job_counts", broken)
        response = await stack.admin.get("/api/v1/status",
                                         headers={"X-Request-ID": "trace-500"})
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal"
        assert response.json()["error"]["request_id"] == "trace-500"
        assert response.headers.get("x-request-id") == "trace-500"
        assert "a bug" not in response.text and "Traceback" not in response.text
