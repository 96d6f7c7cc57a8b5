"""Signed webhooks: Standard Webhooks signatures (checked with the reference library),
retries with backoff, dead letters with their reason, replay protection, SSRF refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
import trustme

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import notify
from hybrid_calendar.models import Notification, NotificationKind, User
from hybrid_calendar.people.signing import ReplayGuard, WebhookVerificationError, verify
from hybrid_calendar.people.ssrf import RefusedEndpoint, check_endpoint

from .conftest import PeopleStack, offer, running_stack
from .receiver import running_receiver

pytestmark = pytest.mark.anyio


@pytest.fixture
async def live(tmp_path: Path, store_url: str | None) -> AsyncIterator[PeopleStack]:
    """A stack whose clock starts at the real time (receivers check timestamps)."""
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    async with running_stack(tmp_path, clock, store_url=store_url, notifications={
            "max_attempts": 3, "retry_base_seconds": 1.0,
            "retry_cap_seconds": 10.0}) as stack:
        yield stack


async def _register(stack: PeopleStack, url: str, **extra: Any) -> dict[str, Any]:
    response = await stack.admin.post("/api/v1/organisations/org1/webhooks",
                                      json={"url": url, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _join_button(stack: PeopleStack, user: User, key: str = "u|e|t") -> None:
    await offer(stack, Notification(
        kind=NotificationKind.JOIN_BUTTON, user=user, key=key, payload={
            "event_id": "e1", "title": "Design review", "start": "2026-11-30T10:00:00+00:00",
            "join": {"url": "https://example.webex.com/meet/room"}}))


async def _retry_due(stack: PeopleStack) -> None:
    """Let the core's outbox retry what is due (after its backoff, on the manual clock)."""
    await notify.deliver_due(stack.gateway)


async def test_deliveries_are_signed_as_standard_webhooks_describes(live: PeopleStack) -> None:
    user = await live.add_user("bob")
    async with running_receiver() as receiver:
        hook = await _register(live, receiver.url, allow_host="127.0.0.1",
                               events=["join_button"])
        assert hook["secret"].startswith("whsec_")
        listed = (await live.admin.get("/api/v1/organisations/org1/webhooks")).json()
        assert hook["secret"] not in json.dumps(listed)
        await _join_button(live, user)
        await offer(live, Notification(
            kind=NotificationKind.PRESENCE, user=user, key="p1",
            payload={"out_of_office": True}))  # not subscribed
    (got,) = receiver.requests
    payload = standardwebhooks.Webhook(hook["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "join_button.due"
    assert payload["data"]["title"] == "Design review"
    assert payload["data"]["user_id"] == user.id
    assert got.headers["host"] == receiver.url.split("/")[2]
    now = live.clock.now()
    guard = ReplayGuard()
    verify(hook["secret"], got.headers, got.body, now, guard)
    with pytest.raises(WebhookVerificationError, match="replay"):
        verify(hook["secret"], got.headers, got.body, now, guard)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify(hook["secret"], got.headers, got.body.replace(b"Design", b"Evil"), now)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(hook["secret"], got.headers, got.body, now + timedelta(minutes=6))
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(hook["secret"]).verify(got.body + b" ", got.headers)



async def test_an_endpoint_taking_join_buttons_hears_of_their_withdrawal(
        live: PeopleStack) -> None:
    """A withdrawal follows up a Join button: the endpoints subscribed to Join buttons get
    it (``join_button.withdrawn``), those subscribed to presence alone do not."""
    user = await live.add_user("bob")
    async with running_receiver() as buttons, running_receiver() as presence:
        await _register(live, buttons.url, allow_host="127.0.0.1", events=["join_button"])
        await _register(live, presence.url, allow_host="127.0.0.1", events=["presence"])
        await _join_button(live, user)
        await offer(live, Notification(
            kind=NotificationKind.JOIN_BUTTON_WITHDRAWN, user=user, key="withdrawn|u|e|t|1",
            payload={"event_id": "e1", "button": "u|e|t", "reason": "declined",
                     "start": "2026-11-30T10:00:00+00:00",
                     "end": "2026-11-30T10:30:00+00:00"}))
    assert [json.loads(r.body)["type"] for r in buttons.requests] == [
        "join_button.due", "join_button.withdrawn"]
    withdrawn = json.loads(buttons.requests[1].body)["data"]
    assert (withdrawn["event_id"], withdrawn["reason"]) == ("e1", "declined")
    assert presence.requests == []


async def test_a_join_button_offered_again_after_its_withdrawal_is_a_new_message(
        live: PeopleStack) -> None:
    """The core offers a withdrawn Join button anew, under the same key, when its meeting
    holds again: the endpoint gets it again, under a new ``webhook-id`` (receivers drop a
    repeated one), once however often the sink is called."""
    user = await live.add_user("bob")
    withdrawal = Notification(
        kind=NotificationKind.JOIN_BUTTON_WITHDRAWN, user=user,
        key="withdrawn|u|e|t|1796000000.000000",
        payload={"event_id": "e1", "button": "u|e|t", "reason": "declined",
                 "start": "2026-11-30T10:00:00+00:00", "end": "2026-11-30T10:30:00+00:00"})
    async with running_receiver() as buttons:
        await _register(live, buttons.url, allow_host="127.0.0.1", events=["join_button"])
        await _join_button(live, user)
        await offer(live, withdrawal)
        for _ in range(2):  # the core forgot the withdrawn button: offered anew, repeated
            await live.gateway.store.forget_notifications(user, ["u|e|t"])
            await _join_button(live, user)
    assert [json.loads(r.body)["type"] for r in buttons.requests] == [
        "join_button.due", "join_button.withdrawn", "join_button.due"]
    ids = [r.headers["webhook-id"] for r in buttons.requests]
    assert len(set(ids)) == 3
    assert json.loads(buttons.requests[2].body)["data"]["title"] == "Design review"

async def test_https_endpoints_are_verified_with_their_host_name(
        live: PeopleStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trusted, other = trustme.CA(), trustme.CA()
    files = {}
    for name, ca in (("trusted", trusted), ("other", other)):
        cert = ca.issue_cert("localhost")
        cert.cert_chain_pems[0].write_to_path(str(tmp_path / f"{name}.pem"))
        for blob in cert.cert_chain_pems[1:]:
            blob.write_to_path(str(tmp_path / f"{name}.pem"), append=True)
        cert.private_key_pem.write_to_path(str(tmp_path / f"{name}.key"))
        files[name] = (str(tmp_path / f"{name}.pem"), str(tmp_path / f"{name}.key"))
    trusted.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    user = await live.add_user("bob")
    async with running_receiver(tls=files["trusted"]) as good, \
            running_receiver(tls=files["other"]) as forged:
        good_hook = await _register(live, good.url, allow_host="localhost")
        forged_hook = await _register(live, forged.url, allow_host="localhost")
        await _join_button(live, user)
    (got,) = good.requests
    standardwebhooks.Webhook(good_hook["secret"]).verify(got.body, got.headers)
    assert forged.requests == []
    (failed,) = (await live.admin.get(f"/api/v1/webhooks/{forged_hook['id']}/deliveries")
                 ).json()["deliveries"]
    assert failed["state"] == "pending" and "TLS failed" in failed["last_error"]


async def test_failures_are_retried_by_the_core_then_delivered_once(live: PeopleStack
                                                                   ) -> None:
    user = await live.add_user("bob")
    async with running_receiver(statuses=[500, 503]) as receiver:
        hook = await _register(live, receiver.url, allow_host="127.0.0.1")
        await _join_button(live, user)  # the core tries at once
        await _join_button(live, user)  # the same notification again: no new message
        await _retry_due(live)  # backing off: nothing is sent
        assert len(receiver.requests) == 1
        pending = (await live.admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
        assert [(d["state"], d["attempts"], d["last_error"]) for d in
                pending["deliveries"]] == [("pending", 1, "HTTP 500")]
        for sent in (2, 3, 3):
            live.clock.advance(timedelta(seconds=10))
            await _retry_due(live)
            assert len(receiver.requests) == sent
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1  # the same message id on every attempt
    for request in receiver.requests:
        standardwebhooks.Webhook(hook["secret"]).verify(request.body, request.headers)
    done = (await live.admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
    assert [(d["state"], d["attempts"]) for d in done["deliveries"]] == [("delivered", 3)]
    (note,) = (await live.admin.get(f"/api/v1/users/{user.id}/notifications")).json()[
        "notifications"]
    assert note["state"] == "delivered"


async def test_dead_letter_keeps_the_reason(live: PeopleStack) -> None:
    user = await live.add_user("bob")
    async with running_receiver(default=503) as receiver:
        hook = await _register(live, receiver.url, allow_host="127.0.0.1")
        await _join_button(live, user)
        for _ in range(3):
            live.clock.advance(timedelta(seconds=10))
            await _retry_due(live)
    assert len(receiver.requests) == 3
    dead = (await live.admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                                 params={"state": "dead"})).json()["deliveries"]
    assert [(d["attempts"], d["last_error"]) for d in dead] == [(3, "HTTP 503")]
    (note,) = (await live.admin.get(f"/api/v1/users/{user.id}/notifications")).json()[
        "notifications"]  # the stream had it, so the notification itself is delivered
    sinks = {d["sink"]: d for d in note["deliveries"]}
    assert sinks["people"]["state"] == "delivered"  # the stream had it at once
    assert (sinks["people.webhook_sink"]["state"], sinks["people.webhook_sink"]["reason"]) == (
        "dead", "HTTP 503")


async def test_redirects_are_not_followed(live: PeopleStack) -> None:
    user = await live.add_user("bob")
    async with running_receiver() as inside, \
            running_receiver(redirect_to="http://169.254.169.254/latest/meta-data/") as hop, \
            running_receiver() as loopback_target:
        hop.redirect_to = loopback_target.url
        hook = await _register(live, hop.url, allow_host="127.0.0.1")
        await _join_button(live, user)
    assert len(hop.requests) == 1 and loopback_target.requests == [] and inside.requests == []
    (delivery,) = (await live.admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries")
                   ).json()["deliveries"]
    assert delivery["last_error"] == "HTTP 307: redirects are not followed"


REFUSED = [
    "https://127.0.0.1/hook", "https://127.1/hook", "https://2130706433/hook",
    "https://0x7f000001/hook", "https://017700000001/hook", "https://0177.0.0.1/hook",
    "https://localhost/hook", "https://localhost./hook", "https://0.0.0.0/hook",
    "https://0/hook", "https://10.1.2.3/hook", "https://172.16.0.1/hook",
    "https://192.168.0.10/hook", "https://100.64.0.1/hook", "https://169.254.169.254/latest",
    "https://100.100.100.200/latest", "https://224.0.0.251/hook", "https://[::1]/hook",
    "https://[::]/hook", "https://[::ffff:127.0.0.1]/hook", "https://[::ffff:a9fe:a9fe]/hook",
    "https://[0:0:0:0:0:ffff:7f00:1]/hook", "https://[fe80::1]/hook",
    "https://[fe80::1%25eth0]/hook", "https://[fc00::1]/hook", "https://[fd00:ec2::254]/",
    "https://[2002:7f00:1::]/hook", "https://[64:ff9b::a9fe:a9fe]/hook",
    "https://[ff02::1]/hook", "https://user:pass@8.8.8.8/hook", "http://8.8.8.8/hook",
    "https://no-such-host.invalid/hook", "ftp://8.8.8.8/hook", "https://[::1/hook",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_endpoints_inside_the_network_are_refused(live: PeopleStack, url: str) -> None:
    if url.startswith("http://"):  # the live stack allows http for its loopback receivers
        with pytest.raises(RefusedEndpoint, match="https"):
            await check_endpoint(url, allow_http=False)
        return
    response = await live.admin.post("/api/v1/organisations/org1/webhooks",
                                      json={"url": url})
    assert response.status_code == 400, url
    assert "endpoint refused" in response.json()["error"]["message"]
    assert (await live.admin.get("/api/v1/organisations/org1/webhooks")).json() == {
        "webhooks": []}


async def test_only_the_named_host_is_allowed(live: PeopleStack) -> None:
    for url, allow in (("https://127.0.0.1/hook", "localhost"),
                       ("https://localhost/hook", "127.0.0.1")):
        response = await live.admin.post("/api/v1/organisations/org1/webhooks",
                                          json={"url": url, "allow_host": allow})
        assert response.status_code == 400
    target = await check_endpoint("https://8.8.8.8/hook")
    assert (target.address, target.port, target.path) == ("8.8.8.8", 443, "/hook")


async def test_bad_registrations(live: PeopleStack) -> None:
    for body in ({"url": "https://8.8.8.8/", "events": ["everything"]},
                 {"url": "https://8.8.8.8/", "events": []},
                 {"url": "https://8.8.8.8/", "allow_host": 3}):
        response = await live.admin.post("/api/v1/organisations/org1/webhooks", json=body)
        assert response.status_code == 400, body
    missing = await live.admin.post("/api/v1/organisations/nope/webhooks", json={})
    assert missing.status_code == 404
    assert (await live.admin.delete("/api/v1/webhooks/whe_nope")).status_code == 404
