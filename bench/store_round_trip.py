"""The SQLite store's worker thread: CPU of one round trip, against a plain executor's.

A round trip is one ``GroupCommitWorker.run`` (on an in-memory database) of a function
that does nothing: the hand-off
to the store's thread, the thread's wake-up, the hand-back to the event loop, and the
caller's guarantee that a cancelled call still waits for its operation. It is timed next
to ``loop.run_in_executor`` on a one-thread pool (the plainest hop there is) in the same
run, alternating the two, in two shapes: one caller at a time (``serial``, each call
wakes the waiting thread) and 8 callers at once (``8 at once``, the thread mostly busy).
CPU is the process's (``time.process_time``: event loop and the worker thread).

Also printed, for where the time goes: ``anyio.CancelScope(shield=True)`` entered and
left, and ``threading.Condition.notify`` with nobody waiting, each on its own.

A/B: run with ``PYTHONPATH`` on each checkout's ``core``, alternating. The last line reads
``round trip: serial X µs (Y × executor), 8 at once X µs (Y × executor)``.

    .venv/bin/python bench/store_round_trip.py --calls 20000
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import anyio

from hybrid_calendar.store.sqlite_worker import GroupCommitWorker


def _nothing() -> None:
    return None


async def _timed(calls: int, parallel: int, call: Callable[[], Awaitable[None]]) -> float:
    """Process CPU µs per call, ``parallel`` callers at once."""
    async def caller(count: int) -> None:
        for _ in range(count):
            await call()

    started = time.process_time()
    await asyncio.gather(*(caller(calls // parallel) for _ in range(parallel)))
    return (time.process_time() - started) * 1e6 / (calls // parallel * parallel)


async def _component_costs(count: int = 200_000) -> tuple[float, float]:
    """µs of a shielded cancel scope entered and left, and of a notify with no waiter."""
    started = time.thread_time()
    for _ in range(count):
        with anyio.CancelScope(shield=True):  # noqa: ASYNC100 (its own cost, measured)
            pass
    scope = (time.thread_time() - started) * 1e6 / count
    condition = threading.Condition(threading.Lock())
    started = time.thread_time()
    for _ in range(count):
        with condition:
            condition.notify()
    locked = time.thread_time() - started
    lock = threading.Lock()
    started = time.thread_time()
    for _ in range(count):
        with lock:
            pass
    return scope, (locked - (time.thread_time() - started)) * 1e6 / count


async def _main(calls: int, rounds: int) -> None:
    connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    worker = GroupCommitWorker(lambda: connection)
    pool = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()

    async def through_worker() -> None:
        await worker.run(_nothing)

    async def through_executor() -> None:
        await loop.run_in_executor(pool, _nothing)

    results: dict[tuple[str, int], list[float]] = {}
    for _round in range(rounds):
        for parallel in (1, 8):
            for name, call in (("executor", through_executor), ("worker", through_worker)):
                figure = await _timed(calls, parallel, call)
                results.setdefault((name, parallel), []).append(figure)
    pool.shutdown()
    connection.close()
    scope, notify = await _component_costs()
    print(f"shielded CancelScope {scope:.2f} µs, Condition.notify without waiter {notify:.2f} µs")
    parts = []
    for parallel, label in ((1, "serial"), (8, "8 at once")):
        worker_us = statistics.median(results["worker", parallel])
        executor_us = statistics.median(results["executor", parallel])
        print(f"{label}: worker {worker_us:.1f} µs, executor {executor_us:.1f} µs per call "
              f"(medians of {rounds}: worker {[round(v, 1) for v in results['worker', parallel]]}"
              f", executor {[round(v, 1) for v in results['executor', parallel]]})")
        parts.append(f"{label} {worker_us:.1f} µs ({worker_us / executor_us:.2f} × executor)")
    print("round trip: " + ", ".join(parts))


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per shape and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two")
    args = parser.parse_args()
    asyncio.run(_main(args.calls, args.rounds))


if __name__ == "__main__":
    main()
