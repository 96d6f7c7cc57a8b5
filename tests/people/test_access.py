"""Personal access: issue, hash, expire, revoke; and one user's token never reads another's."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from hybrid_calendar.builder import opened_gateway
from hybrid_calendar.cli import main
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Notification, NotificationKind, Organisation, User, UserState
from hybrid_calendar.people import access

from .conftest import ADMIN_TOKEN, NOW, PeopleStack, meeting, offer
from .walk import call, personal_routes

pytestmark = pytest.mark.anyio


async def _two_users(stack: PeopleStack) -> tuple[User, User]:
    alice, bob = await stack.add_user("alice"), await stack.add_user("bob")
    await stack.put_meetings(alice, [meeting(alice, "a1", "Alice secret budget",
                                             NOW + timedelta(hours=1))])
    await stack.put_meetings(bob, [meeting(bob, "b1", "Bob standup",
                                           NOW + timedelta(hours=2))])
    return alice, bob


async def test_every_personal_route_needs_a_token_and_never_shows_another_users_data(
        stack: PeopleStack) -> None:
    alice, bob = await _two_users(stack)
    bob_token = await stack.token(bob)
    routes = list(personal_routes(stack.app))
    assert ("/api/v1/me/meetings", "GET") in routes and len(routes) >= 5
    async with stack.client() as anonymous, stack.client(ADMIN_TOKEN) as admin_as_user, \
            stack.client(bob_token) as as_bob, stack.client("hcp_forged") as forged:
        for path, method in routes:
            for client in (anonymous, admin_as_user, forged):
                status, _ = await call(client, path, method)
                assert status == 401, (path, method, status)
            if method != "GET":
                continue
            status, body = await call(as_bob, path, method)
            assert status == 200, (path, status, body)
            assert "Alice secret budget" not in body and alice.id not in body, path
            assert alice.email not in body, path
        status, body = await call(as_bob, "/api/v1/me/meetings", "GET")
        assert "Bob standup" in body


async def test_personal_tokens_do_not_open_admin_routes(stack: PeopleStack) -> None:
    _alice, bob = await _two_users(stack)
    async with stack.client(await stack.token(bob)) as as_bob:
        assert (await as_bob.get("/api/v1/organisations/org1/users")).status_code == 401
        assert (await as_bob.get(f"/api/v1/users/{bob.id}/access")).status_code == 401
        assert (await as_bob.post(f"/api/v1/users/{bob.id}/access")).status_code == 401


async def test_tokens_are_stored_hashed_and_listed_without_secrets(
        stack: PeopleStack, stored_bytes: Callable[[], Awaitable[bytes]]) -> None:
    _alice, bob = await _two_users(stack)
    secret = await stack.token(bob, label="kitchen display", audience="room")
    listing = (await stack.admin.get(f"/api/v1/users/{bob.id}/access")).json()["access"]
    assert [(g["label"], g["audience"], g["kind"]) for g in listing] == [
        ("kitchen display", "room", "token")]
    assert secret not in json.dumps(listing)
    raw = await stored_bytes()
    assert secret.encode() not in raw
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in raw
    async with stack.client(secret) as as_room:
        assert (await as_room.get("/api/v1/me")).json()["audience"] == "room"


async def test_expiry_revocation_and_deactivation_end_access(stack: PeopleStack) -> None:
    _alice, bob = await _two_users(stack)
    short = await stack.token(bob, days=1)
    other = await stack.token(bob)
    third = await stack.token(bob)
    async with stack.client(short) as c1, stack.client(other) as c2, stack.client(third) as c3:
        assert (await c1.get("/api/v1/me")).status_code == 200
        stack.clock.advance(timedelta(days=1, seconds=1))
        assert (await c1.get("/api/v1/me")).status_code == 401
        assert (await c2.get("/api/v1/me")).status_code == 200
        grant = next(g for g in (await stack.admin.get(
            f"/api/v1/users/{bob.id}/access")).json()["access"] if g["expires_at"] > "2026-12-20")
        assert (await stack.admin.delete(f"/api/v1/access/{grant['id']}")).status_code == 200
        remaining = [s for s in (c2, c3) if (await s.get("/api/v1/me")).status_code == 200]
        assert len(remaining) == 1
        await stack.gateway.store.set_user_state(bob.id, UserState.INACTIVE)
        assert (await remaining[0].get("/api/v1/me")).status_code == 401
    assert (await stack.admin.delete("/api/v1/access/acc_nope")).status_code == 404


async def test_bad_issue_requests_are_refused(stack: PeopleStack) -> None:
    _alice, bob = await _two_users(stack)
    for body in ({"kind": "session"}, {"audience": "everyone"}, {"days": 0},
                 {"days": 400}, {"days": "ten"}):
        response = await stack.admin.post(f"/api/v1/users/{bob.id}/access", json=body)
        assert response.status_code == 400, body
    assert (await stack.admin.post("/api/v1/users/nobody/access", json={})).status_code == 404


async def test_sign_in_link_is_used_once_and_opens_a_revocable_session(
        stack: PeopleStack) -> None:
    _alice, bob = await _two_users(stack)
    issued = (await stack.admin.post(f"/api/v1/users/{bob.id}/access",
                                     json={"kind": "link"})).json()
    assert issued["url"].startswith(stack.base_url + "/me/sign-in?code=hcp_")
    code = issued["secret"]
    async with stack.client() as browser:
        assert (await browser.get(f"/me/sign-in?code={code}")).status_code == 200
        assert (await browser.get("/me/sign-in?code=hcp_wrong")).status_code == 401
        signed_in = await browser.post("/me/sign-in", data={"code": code})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/me"
        assert "httponly" in signed_in.headers["set-cookie"].lower()
        assert (await browser.get("/api/v1/me")).json()["user_id"] == bob.id
    async with stack.client() as second:
        assert (await second.post("/me/sign-in", data={"code": code})).status_code == 401
        async with stack.client(code) as link_as_token:  # a link is not a token
            assert (await link_as_token.get("/api/v1/me")).status_code == 401
    async with stack.client() as browser:
        another = (await stack.admin.post(f"/api/v1/users/{bob.id}/access",
                                          json={"kind": "link"})).json()
        await browser.post("/me/sign-in", data={"code": another["secret"]})
        assert (await browser.get("/api/v1/me")).status_code == 200
        await stack.admin.delete(f"/api/v1/access/{another['id']}")  # revokes its session
        assert (await browser.get("/api/v1/me")).status_code == 401


async def test_link_expires_unused(stack: PeopleStack) -> None:
    _alice, bob = await _two_users(stack)
    code = await stack.token(bob, kind="link")
    stack.clock.advance(timedelta(days=2))
    async with stack.client() as browser:
        assert (await browser.post("/me/sign-in", data={"code": code})).status_code == 401


def test_cli_issues_lists_and_revokes(tmp_path: Path) -> None:
    config_file = tmp_path / "gateway.toml"
    config_file.write_text(
        f'[gateway]\ndata_dir = "{tmp_path / "data"}"\nsynchronous = "NORMAL"\n'
        '[plugins]\nenabled = ["join_info", "kms_local", "people"]\n'
        'load_entrypoints = false\n')
    config, pm = load_config(config_file, environ={})

    async def provision() -> None:
        async with opened_gateway(config, pm) as gateway:
            await gateway.store.put_organisation(Organisation("org1", "Org", "example.com"))
            await gateway.store.put_user(User("u1", "org1", "dana@example.com",
                                              state=UserState.ACTIVE))
    anyio.run(provision)

    def run(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(list(argv))
        return code, out.getvalue()

    code, out = run("access", "issue", "--config", str(config_file), "--org", "org1",
                    "--email", "dana@example.com", "--link", "--days", "1")
    issued = json.loads(out)
    assert code == 0 and issued["kind"] == "link" and issued["url"].endswith(issued["secret"])
    code, out = run("access", "list", "--config", str(config_file), "--user", "u1")
    assert code == 0 and issued["secret"] not in out and json.loads(out)[0]["id"] == issued["id"]
    assert run("access", "revoke", "--config", str(config_file), issued["id"])[0] == 0
    assert run("access", "revoke", "--config", str(config_file), "acc_nope")[0] == 1
    assert run("access", "issue", "--config", str(config_file), "--user", "nobody")[0] == 2

    async def check() -> None:
        async with opened_gateway(config, pm) as gateway:
            assert await access.authenticate(gateway, issued["secret"],
                                             kinds=("link",)) is None
    anyio.run(check)
    with sqlite3.connect(tmp_path / "data" / "gateway.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM people_access").fetchone() == (1,)


async def test_deactivation_deletes_the_users_tokens_and_stream_outbox(
        stack: PeopleStack) -> None:
    alice, bob = await _two_users(stack)
    tokens = {user.id: await stack.token(user) for user in (alice, bob)}
    for user in (alice, bob):
        await offer(stack, Notification(kind=NotificationKind.PRESENCE, user=user,
                                        payload={"out_of_office": True},
                                        key=f"presence:{user.id}"))

    def rows(handle: Any) -> dict[str, dict[str, int]]:
        return {table: {user_id: count for user_id, count in handle.execute(
                    f"SELECT user_id, COUNT(*) FROM {table} GROUP BY user_id").fetchall()}
                for table in ("people_access", "people_outbox")}

    before = await stack.gateway.store.call(rows)
    assert all(before[table].get(u.id) for table in before for u in (alice, bob))
    await stack.gateway.store.forget_user_data(bob.id)  # what deactivation runs
    after = await stack.gateway.store.call(rows)
    assert all(bob.id not in after[table] for table in after)
    assert after == {table: {alice.id: before[table][alice.id]} for table in before}
    async with stack.client(tokens[bob.id]) as gone, stack.client(tokens[alice.id]) as kept:
        assert (await gone.get("/api/v1/me")).status_code == 401
        assert (await kept.get("/api/v1/me")).status_code == 200


async def test_a_sign_in_posted_from_another_site_is_refused_and_leaves_the_code_unused(
        stack: PeopleStack) -> None:
    """Login CSRF: a page elsewhere must not sign a visitor in with its author's code."""
    _alice, bob = await _two_users(stack)
    code = await stack.token(bob, kind="link")
    host = stack.base_url.split("//", 1)[1]
    async with stack.client() as browser:
        for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                        {"Origin": "https://evil.example"}):
            refused = await browser.post("/me/sign-in", data={"code": code}, headers=headers)
            assert refused.status_code == 403, headers
            assert "set-cookie" not in refused.headers
        for headers in ({"Sec-Fetch-Site": "same-origin", "Origin": "null"},
                        {"Origin": f"http://{host}"}):
            other = await stack.token(bob, kind="link")
            accepted = await browser.post("/me/sign-in", data={"code": other},
                                          headers=headers)
            assert accepted.status_code == 303, headers
        signed_in = await browser.post("/me/sign-in", data={"code": code},
                                       headers={"Sec-Fetch-Site": "same-origin"})
        assert signed_in.status_code == 303  # the refused posts did not use it up
