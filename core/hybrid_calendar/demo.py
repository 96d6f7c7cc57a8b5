"""``hybrid-calendar demo``: the whole gateway on embedded defaults, against the emulator.

Starts the bundled Google API emulator with three users, writes its service-account key,
seeds invitations (Zoom, Teams, SIP, an ``@meet`` keyword) and a vacation responder, then
runs the real gateway (HTTP app + engine) on loopback, provisions the organisation and
activates the users through the admin API, and prints each user's meetings list.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from hybrid_calendar import logs
from hybrid_calendar.loading import load_config
from hybrid_calendar.server import uvicorn_config

DOMAIN = "demo.example"
USERS = [f"alice@{DOMAIN}", f"bob@{DOMAIN}", f"carol@{DOMAIN}"]


def demo_events(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Invitations that exercise join-link detection and keyword scheduling."""
    def at(hours: float, minutes: int = 30) -> dict[str, dict[str, str]]:
        start = (now + timedelta(hours=hours)).replace(second=0, microsecond=0)
        return {"start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
                "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(),
                        "timeZone": "UTC"}}

    return {
        USERS[0]: [
            {"summary": "Design review", **at(0.1),
             "description": "Join Zoom Meeting\nhttps://us02web.zoom.us/j/81234567890?pwd=abc"
                            "\nMeeting ID: 812 3456 7890",
             "attendees": [{"email": USERS[1]}]},
            {"summary": "Weekly sync", **at(26), "location":
                "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0",
             "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]},
            {"summary": "Customer call", **at(50), "location": "@meet"},
        ],
        USERS[1]: [
            {"summary": "Board room call", **at(3), "location": "sip:board@video.demo.example"},
        ],
        USERS[2]: [],
    }


async def _demo(data_dir: Path, port: int, seconds: float) -> int:
    from hybrid_calendar_google_emulator.testing import running_emulator

    with running_emulator(domain=DOMAIN, users=USERS) as emu:
        key_file = data_dir / "service-account.json"
        key_file.write_text(json.dumps(emu.service_account_info))
        key_file.chmod(0o600)
        now = datetime.now(UTC)
        for user, events in demo_events(now).items():
            for event in events:
                emu.state.insert_event(user, event)
        emu.state.set_vacation(USERS[2], {
            "enableAutoReply": True, "responseSubject": "Out of office",
            "startTime": str(int((now - timedelta(days=1)).timestamp() * 1000)),
            "endTime": str(int((now + timedelta(days=5)).timestamp() * 1000))})
        emu.state.set_setting(USERS[0], "locale", "de")

        admin_token = secrets.token_urlsafe(24)
        base = f"http://127.0.0.1:{port}"
        overrides: dict[str, dict[str, object]] = {
            "gateway": {"port": port, "public_url": base, "data_dir": str(data_dir),
                        "admin_token": admin_token, "synchronous": "NORMAL"},
            "sync": {"sweep_seconds": 5.0},
            "google": {"service_account_file": str(key_file),
                       "calendar_base_url": emu.base_url + "/calendar/v3",
                       "gmail_base_url": emu.base_url},
            "kms_local": {"key_file": str(data_dir / "kms-keys.json")},
            "join_info": {"keywords": ["webex=personal_room", "meet=google_meet"]},
        }
        config, pm = load_config(None, overrides=overrides)
        server = uvicorn.Server(uvicorn_config(config, pm))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                return 1
            await asyncio.sleep(0.05)
        headers = {"Authorization": f"Bearer {admin_token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            (await client.post("/api/v1/organisations", json={
                "id": "demo", "name": "Demo Org", "domain": DOMAIN})).raise_for_status()
            ids = []
            for email in USERS:
                response = await client.post("/api/v1/organisations/demo/users",
                                             json={"email": email})
                response.raise_for_status()
                ids.append(response.json()["id"])
            await _wait_for_sync(client, ids)
            for user_id, email in zip(ids, USERS, strict=True):
                listed = (await client.get(f"/api/v1/users/{user_id}/meetings")).json()
                away = " (out of office)" if listed.get("out_of_office") else ""
                print(f"\n{email}{away}: {len(listed['meetings'])} meeting(s)")
                for meeting in listed["meetings"]:
                    join = meeting["join"] or {}
                    print(f"  {meeting['start'][:16]}  {meeting['title']:<18} "
                          f"{join.get('provider') or '-':<8} {join.get('url') or ''}"
                          f" {join.get('dial') or ''}")
        print(f"\nGateway on {base} (admin token in this terminal only: {admin_token})")
        print(f"Google emulator on {emu.base_url}; data in {data_dir}")
        print("Try: curl -H 'Authorization: Bearer <token>' "
              f"{base}/api/v1/organisations/demo/users")
        try:
            if seconds > 0:
                await asyncio.wait_for(asyncio.shield(task), timeout=seconds)
            else:
                await task
        except TimeoutError:
            pass
        finally:
            server.should_exit = True
            await task
    return 0


async def _wait_for_sync(client: httpx.AsyncClient, ids: list[str], limit: float = 60.0
                         ) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while asyncio.get_running_loop().time() < deadline:
        users = (await client.get("/api/v1/organisations/demo/users")).json()["users"]
        states = {u["id"]: u["state"] for u in users}
        jobs = (await client.get("/api/v1/status")).json()["jobs"]
        if all(states.get(i) in ("active", "error") for i in ids) and not jobs.get("queued") \
                and not jobs.get("running"):
            for user in users:
                if user["state"] == "error":
                    print(f"{user['email']}: error: {user['reason']}")
            return
        await asyncio.sleep(0.2)
    print("warning: users not synced within a minute; see the log")


def run_demo(data_dir: Path, *, port: int = 8080, seconds: float = 0) -> int:
    """Run the demo until Ctrl-C (or for ``seconds``)."""
    logs.install(os.environ.get("HYBRID_CALENDAR_GATEWAY__LOG_LEVEL", "WARNING"))
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    try:
        return asyncio.run(_demo(data_dir, port, seconds))
    except KeyboardInterrupt:
        return 0
