"""The benchmark's remote peers, each run as its own process by ``bench/join_buttons.py``:

* ``receiver PORT OUT`` — a webhook receiver (raw asyncio HTTP/1.1, keep-alive) that
  answers 204 and records, per message, the arrival time, ``webhook-id`` and the body;
* ``clients PORT TOKENS OUT`` — one server-sent-events client per token (raw asyncio,
  chunked transfer decoding), recording each event's arrival time, name and data, and
  ``(closed)`` with the reason when a stream ends before the benchmark does.

Both print ``ready`` once listening / connected, and write their records as JSON to OUT
when they receive SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from typing import Any


async def receiver(port: int, out: str) -> None:
    records: list[tuple[float, str, str]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = dict(line.split(": ", 1) for line in
                               head.decode("latin-1").split("\r\n")[1:] if ": " in line)
                lower = {k.lower(): v for k, v in headers.items()}
                body = await reader.readexactly(int(lower.get("content-length", "0")))
                records.append((time.time(), lower.get("webhook-id", ""), body.decode()))
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    await _until_term()
    server.close()
    with open(out, "w") as handle_out:
        json.dump(records, handle_out)


async def clients(port: int, tokens_file: str, out: str) -> None:
    with open(tokens_file) as handle:
        tokens: list[str] = json.load(handle)
    records: list[tuple[float, int, str, Any]] = []
    connected = 0
    all_connected = asyncio.Event()

    async def follow(index: int, token: str) -> None:
        nonlocal connected
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(f"GET /api/v1/me/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
                     .encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:80]
        connected += 1
        if connected == len(tokens):
            all_connected.set()
        buffer, event, data = b"", "message", ""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return
            buffer += chunk[:-2]
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                text = line.decode().rstrip("\r")
                if not text:
                    if data:
                        records.append((time.time(), index, event, json.loads(data)))
                    event, data = "message", ""
                elif text.startswith("event:"):
                    event = text[6:].strip()
                elif text.startswith("data:"):
                    data = text[5:].strip()

    async def follow_and_note_the_end(index: int, token: str) -> None:
        try:
            await follow(index, token)
            reason = "the server ended the stream"
        except (OSError, asyncio.IncompleteReadError, ValueError) as err:
            reason = f"{type(err).__name__}: {err}"
        records.append((time.time(), index, "(closed)", reason))

    tasks = [asyncio.create_task(follow_and_note_the_end(i, t))
             for i, t in enumerate(tokens)]
    await asyncio.wait_for(all_connected.wait(), 120)
    print("ready", flush=True)
    await _until_term()
    for task in tasks:
        task.cancel()
    with open(out, "w") as handle:
        json.dump(records, handle)


async def _until_term() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


if __name__ == "__main__":
    role, *rest = sys.argv[1:]
    if role == "receiver":
        asyncio.run(receiver(int(rest[0]), rest[1]))
    else:
        asyncio.run(clients(int(rest[0]), rest[1], rest[2]))
