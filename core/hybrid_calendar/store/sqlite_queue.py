"""The durable job queue on SQLite."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import anyio

from hybrid_calendar.models import Job
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import PROCESS_ID, QueuedJob
from hybrid_calendar.store.sqlite_base import SqliteConnection, dt, transaction, ts

INSERT_JOB = ("INSERT OR IGNORE INTO jobs (kind, key, lane, payload, state, run_at, "
              "attempts, created_at) VALUES (?, ?, ?, ?, 'queued', ?, 0, ?)")
"""A job's insert (nothing when a job of its key is queued)."""

_LISTENERS: dict[str, list[tuple[SqliteQueue, Callable[[], None]]]] = {}
"""Listening stores and their wake-up callbacks (:meth:`SqliteQueue.listen_for_jobs`),
by database path."""


class SqliteQueue(SqliteConnection):
    """Jobs, coalesced by key and serialized by lane.

    A SQLite database has one gateway process, so wake-ups stay in it: enqueuing through
    a store wakes the listeners of every other store on that file (its own caller wakes
    its own workers).
    """

    # jobs ----------------------------------------------------------------------
    async def enqueue(self, kind: str, key: str, payload: Mapping[str, Any], run_at: datetime,
                      *, lane: str | None = None, notify: bool = True) -> bool:
        cursor = await self._run(lambda: self.execute(
            INSERT_JOB, (kind, key, lane or key, json.dumps(dict(payload)), ts(run_at),
                         time.time())))
        if cursor.rowcount and notify:
            self.wake_others()
        return bool(cursor.rowcount)

    def wake_others(self, jobs: int = 1) -> None:
        """Wake the listeners of every other store on this file once per job added."""
        for _job in range(jobs):
            for store, wake in list(_LISTENERS.get(self.path, ())):
                if store is not self:
                    wake()

    async def enqueue_many(self, jobs: Sequence[QueuedJob], *, notify: bool = True
                           ) -> list[bool]:
        """One transaction for the whole list (one ``INSERT OR IGNORE`` a job); with
        ``notify``, other stores' listeners are woken once per added job, as by
        :meth:`enqueue`."""
        created = time.time()

        def work() -> list[bool]:
            added: set[str] = set()
            with transaction(self._conn_or_fail()) as conn:
                for job in jobs:
                    if job.key in added:
                        continue
                    cursor = conn.execute(INSERT_JOB, (
                        job.kind, job.key, job.lane or job.key, json.dumps(dict(job.payload)),
                        ts(job.run_at), created))
                    if cursor.rowcount:
                        added.add(job.key)
            firsts: set[str] = set()
            result = []
            for job in jobs:
                result.append(job.key in added and job.key not in firsts)
                firsts.add(job.key)
            return result
        result = await self._run(work)
        if notify:
            self.wake_others(sum(result))
        return result

    async def listen_for_jobs(self, wake: Callable[[], None]) -> None:
        listeners = _LISTENERS.setdefault(self.path, [])
        entry = (self, wake)
        listeners.append(entry)
        try:
            wake()  # listening now: jobs queued before are worth a look
            await anyio.sleep_forever()
        finally:
            listeners.remove(entry)

    async def claim(self, now: datetime, lease_seconds: float) -> Job | None:
        """One transaction in one hand-off to the store's thread: the claim and, for a
        ``sync`` job, its user's context (``Job.context``)."""
        def work() -> tuple[Job, dict[str, Any] | None] | None:
            with transaction(self._conn_or_fail()) as conn:
                return _claim_in(conn, now, lease_seconds)
        return await self._with_context(await self._run(work))

    async def finish_and_claim(self, job_id: int, now: datetime, lease_seconds: float
                               ) -> Job | None:
        """The finish and the claim (as :meth:`claim`) in one transaction and one
        hand-off to the store's thread."""
        def work() -> tuple[Job, dict[str, Any] | None] | None:
            with transaction(self._conn_or_fail()) as conn:
                conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
                return _claim_in(conn, now, lease_seconds)
        return await self._with_context(await self._run(work))

    async def _with_context(self, claimed: tuple[Job, dict[str, Any] | None] | None
                            ) -> Job | None:
        """The claimed job, with its context opened when the claim read one."""
        if claimed is None:
            return None
        job, row = claimed
        if row is None:
            return job
        return replace(job, context=await codec.claimed_context(self.cipher, row))

    async def finish(self, job_id: int) -> None:
        await self._run(lambda: self.execute("DELETE FROM jobs WHERE id = ?", (job_id,)))

    async def retry(self, job_id: int, error: str, run_at: datetime | None) -> None:
        def work() -> None:
            with transaction(self._conn_or_fail()) as conn:
                key = conn.execute("SELECT key, attempts FROM jobs WHERE id=?",
                                   (job_id,)).fetchone()
                if key is None:
                    return
                if run_at is None:
                    conn.execute("DELETE FROM jobs WHERE key=? AND state='parked'", (key[0],))
                    conn.execute("UPDATE jobs SET state='parked', last_error=? WHERE id=?",
                                 (error, job_id))
                    return
                queued = conn.execute("SELECT id FROM jobs WHERE key=? AND state='queued'",
                                      (key[0],)).fetchone()
                if queued is not None:  # a newer request takes the failed run's place,
                    # its backoff and its attempts (see Store.retry)
                    conn.execute("DELETE FROM jobs WHERE id=?", (job_id,))
                    conn.execute("UPDATE jobs SET run_at=MAX(run_at, ?), "
                                 "attempts=MAX(attempts, ?), last_error=? WHERE id=?",
                                 (ts(run_at), key[1], error, queued[0]))
                else:
                    conn.execute("UPDATE jobs SET state='queued', run_at=?, last_error=?, "
                                 "lease_until=NULL WHERE id=?", (ts(run_at), error, job_id))
        await self._run(work)

    async def extend_leases(self, job_ids: Sequence[int], until: datetime) -> int:
        if not job_ids:
            return 0
        marks = ", ".join("?" for _ in job_ids)
        cursor = await self._run(lambda: self.execute(
            f"UPDATE jobs SET lease_until = ? WHERE state = 'running' AND id IN ({marks})",
            (ts(until), *job_ids)))
        return int(cursor.rowcount)

    async def requeue_running(self, now: datetime | None = None) -> int:
        def work() -> int:
            with transaction(self._conn_or_fail()) as conn:
                sql = "SELECT id, key FROM jobs WHERE state='running'"
                params: tuple[Any, ...] = ()
                if now is not None:
                    sql += " AND lease_until < ?"
                    params = (ts(now),)
                count = 0
                for job_id, key in conn.execute(sql, params).fetchall():
                    if conn.execute("SELECT 1 FROM jobs WHERE key=? AND state='queued'",
                                    (key,)).fetchone():
                        conn.execute("DELETE FROM jobs WHERE id=?", (job_id,))
                    else:
                        conn.execute("UPDATE jobs SET state='queued', lease_until=NULL "
                                     "WHERE id=?", (job_id,))
                    count += 1
                return count
        return int(await self._run(work))

    async def job_counts(self) -> dict[str, int]:
        rows = await self._select("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        return {row["state"]: row["n"] for row in rows}


def _claim_in(conn: sqlite3.Connection, now: datetime, lease_seconds: float
              ) -> tuple[Job, dict[str, Any] | None] | None:
    """Claim the next due job inside the open transaction ``conn``: the job, and for a
    ``sync`` job its user's :data:`.codec.USER_CONTEXT_SELECT` row (``None`` for another
    kind, or a user no longer stored); ``None`` when no job is due."""
    row = conn.execute(
        "SELECT id, kind, key, payload, attempts, run_at FROM jobs q "
        "WHERE state = 'queued' AND run_at <= ? AND NOT EXISTS (SELECT 1 FROM jobs r"
        " WHERE r.lane = q.lane AND r.state = 'running') ORDER BY run_at, id LIMIT 1",
        (ts(now),)).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE jobs SET state='running', attempts=attempts+1, "
                 "lease_until=?, claimed_by=? WHERE id=?",
                 (now.timestamp() + lease_seconds, PROCESS_ID, row[0]))
    run_at = dt(row[5])
    assert run_at is not None
    job = Job(id=row[0], kind=row[1], key=row[2], payload=codec.job_payload(row[0], row[3]),
              attempts=row[4] + 1, run_at=run_at)
    user_id = codec.sync_job_user(job.kind, job.key)
    if user_id is None:
        return job, None
    return job, SqliteConnection.first_row(
        conn.execute(f"{codec.USER_CONTEXT_SELECT} WHERE u.id = ?", (user_id,)))
