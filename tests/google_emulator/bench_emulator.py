"""Emulator throughput (not a test): token grants and full events.list over one connection.

Starts ``hybrid-calendar emulator google`` in a subprocess with 1,000 users × 50 seeded
events and unlimited quotas, then times 1,000 token grants and 1,000 full lists with one
``httpx.Client`` connection::

    .venv/bin/python -m tests.google_emulator.bench_emulator
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from google.auth import crypt, jwt

from hybrid_calendar_google_emulator.testing import cli_environment

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def main() -> None:
    """Run the measurement and print the figures."""
    users = [f"user{i}@example.com" for i in range(1000)]
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "sa.json"
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "google", "--port", "0",
             "--users", ",".join(users), "--service-account-out", str(key_file),
             "--seed", "50", "--faults",
             json.dumps({"quota": {"project_rpm": 10**9, "user_rpm": 10**9}})],
            stdout=subprocess.PIPE, text=True, env=cli_environment())
        try:
            assert process.stdout is not None
            process.stdout.readline()
            print(f"start-up with 1,000 users x 50 events seeded: "
                  f"{time.perf_counter() - started:.2f}s")
            info = json.loads(key_file.read_text())
            base = info["token_uri"].removesuffix("/token")
            signer: crypt.Signer = crypt.RSASigner.from_service_account_info(info)  # type: ignore[no-untyped-call]  # google-auth: no hints
            now = int(time.time())
            assertions = [jwt.encode(signer, {  # type: ignore[no-untyped-call]  # google-auth: no hints
                "iss": info["client_email"], "sub": user, "scope":
                "https://www.googleapis.com/auth/calendar", "iat": now, "exp": now + 3600,
                "aud": "https://oauth2.googleapis.com/token"}).decode() for user in users]
            with httpx.Client(base_url=base) as client:
                started = time.perf_counter()
                tokens = [client.post("/token", data={"grant_type": GRANT, "assertion": a}
                                      ).json()["access_token"] for a in assertions]
                elapsed = time.perf_counter() - started
                print(f"1,000 token grants: {elapsed:.2f}s ({1000 / elapsed:.0f}/s)")
                started = time.perf_counter()
                for user, token in zip(users, tokens, strict=True):
                    response = client.get(f"/calendar/v3/calendars/{user}/events",
                                          params={"maxResults": "2500"},
                                          headers={"Authorization": f"Bearer {token}"})
                    assert response.status_code == 200
                elapsed = time.perf_counter() - started
                print(f"1,000 full events.list (50 events): {elapsed:.2f}s "
                      f"({1000 / elapsed:.0f}/s)")
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


if __name__ == "__main__":
    main()
