"""``hybrid-calendar demo``: the whole gateway on embedded defaults, against the emulators.

The demo knows no provider. It enables, next to the configured plugins, the built-in
``<name>_emulator`` plugin of each (``google`` → ``google_emulator``), and lets every
plugin contribute its part through the ``prepare_demo`` hook: the Google emulator plugin
starts the emulator with the demo's three users, seeds invitations (Zoom, Teams, SIP, the
``@webex`` and ``@meet`` keywords) and a vacation responder, and returns the settings that
point the ``google`` plugin at it; the Webex emulator plugin does the same for the
``webex`` sink. The demo then runs the real gateway (HTTP app + engine) on loopback with
the default keywords and those settings, provisions the organisation and activates the
users through the admin API, prints each user's meetings list, then each part's report
(what the gateway did on its side).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from hybrid_calendar import logs
from hybrid_calendar.demo_setup import DemoPart, DemoSetup, merge_parts
from hybrid_calendar.hooks import Hooks
from hybrid_calendar.listening import ServerNotAnsweringError, until_answering
from hybrid_calendar.loading import load_config
from hybrid_calendar.plugins import BUILTIN_PLUGINS
from hybrid_calendar.server import uvicorn_config

DOMAIN = "demo.example"
USERS = (f"alice@{DOMAIN}", f"bob@{DOMAIN}", f"carol@{DOMAIN}")


def demo_plugins(enabled: Sequence[str]) -> list[str]:
    """``enabled`` plus the built-in ``<name>_emulator`` plugin of each enabled ``<name>``."""
    emulators = [f"{name}_emulator" for name in enabled
                 if f"{name}_emulator" in BUILTIN_PLUGINS and f"{name}_emulator" not in enabled]
    return [*enabled, *emulators]


def prepare_parts(setup: DemoSetup) -> list[DemoPart]:
    """Let the configured plugins and their emulators start their parts (``prepare_demo``)."""
    enabled = demo_plugins(load_config(None)[0].get("plugins", "enabled"))
    _, pm = load_config(None, overrides={"plugins": {"enabled": enabled}})
    return Hooks(pm).prepare_demo(setup)


async def _demo(data_dir: Path, port: int, seconds: float) -> int:
    with contextlib.ExitStack() as cleanup:
        parts = prepare_parts(DemoSetup(domain=DOMAIN, users=USERS, data_dir=data_dir,
                                        now=datetime.now(UTC), cleanup=cleanup))
        admin_token = secrets.token_urlsafe(24)
        base = f"http://127.0.0.1:{port}"
        overrides = merge_parts({
            "gateway": {"port": port, "public_url": base, "data_dir": str(data_dir),
                        "admin_token": admin_token, "synchronous": "NORMAL"},
            "sync": {"sweep_seconds": 5.0},
        }, parts)
        config, pm = load_config(None, overrides=overrides)
        server = uvicorn.Server(uvicorn_config(config, pm))
        task = asyncio.create_task(server.serve())
        try:
            await until_answering(base + "/healthz", within=60, alive=lambda: not task.done())
        except ServerNotAnsweringError as err:
            print(f"error: the gateway did not start: {err}", file=sys.stderr)
            return 1
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
            print("\nEach user's meetings: start, title, service, join link, address video "
                  "devices dial")
            for user_id, email in zip(ids, USERS, strict=True):
                listed = (await client.get(f"/api/v1/users/{user_id}/meetings")).json()
                away = " (out of office)" if listed.get("out_of_office") else ""
                print(f"\n{email}{away}: {len(listed['meetings'])} meeting(s)")
                for meeting in listed["meetings"]:
                    print(meeting_line(meeting))
            for part in parts:
                if part.report is not None:
                    print("\n" + "\n".join(part.report()))
        print(f"\nGateway on {base} (admin token in this terminal only: {admin_token})")
        notes = [note for part in parts for note in part.notes]
        print("; ".join([*notes, f"data in {data_dir}"]))
        print("Try: curl -H 'Authorization: Bearer <token>' "
              f"{base}/api/v1/organisations/demo/users"
              + ("" if seconds > 0 else "   (Ctrl-C stops the demo)"))
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


def meeting_line(meeting: dict[str, Any]) -> str:
    """One meeting of a user's meetings list: start, title, service, join link and the
    address video devices dial (a keyword the meeting service refused shows its note)."""
    join = meeting["join"] or {}
    link = (join.get("extra") or {}).get("note") if join.get("source") == "refused" \
        else join.get("url")
    return (f"  {meeting['start'][:16]}  {meeting['title']:<18} "
            f"{join.get('provider') or '-':<8} {link or ''} {join.get('dial') or ''}").rstrip()


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
