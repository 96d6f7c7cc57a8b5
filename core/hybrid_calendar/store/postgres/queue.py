"""The durable job queue on PostgreSQL, shared by every gateway process.

* A claim takes the oldest due job with ``FOR UPDATE SKIP LOCKED``, so processes claiming
  at once never wait for or take the same row, and gives it a lease (``lease_until``). It
  is one statement in autocommit on a pooled connection of its own, never part of a
  group commit (:mod:`.group_commit`): claims that find nothing write nothing, and a
  group would wrap them in ``BEGIN``/``COMMIT`` (two statements more) and delay the job.
  It reads the partial index ``jobs_claim_order`` (``run_at, id`` of queued jobs: migration
  ``m016``) in its ``ORDER BY`` and stops at the first job of a free lane, so its cost does
  not depend on the table's statistics or on how many jobs are queued.
* A lane never has two running jobs: the unique index ``jobs_one_running_per_lane`` turns
  a race between two processes into a unique violation, and the loser claims again.
* Enqueuing sends ``NOTIFY hybrid_calendar_jobs`` in the same statement (unless the
  caller wakes a worker of its own: ``notify=False``), as do a retry and a re-queue of
  lapsed leases; each process ``LISTEN``s (:meth:`PostgresQueue.listen_for_jobs`). The
  payload names the sending store, so a store's listener skips its own notifications
  (its process already woke a worker for them).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from hybrid_calendar.models import Job
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import PROCESS_ID, SYNC_KEY_PREFIX, SYNC_KIND, QueuedJob
from hybrid_calendar.store.postgres.connection import Conn, PostgresConnection
from hybrid_calendar.store.sqlite_base import dt, ts

JOBS_CHANNEL = "hybrid_calendar_jobs"
"""The ``LISTEN``/``NOTIFY`` channel of new jobs."""

ENQUEUE = (
    "INSERT INTO jobs (kind, key, lane, payload, state, run_at, attempts, created_at) "
    "VALUES (%s, %s, %s, %s, 'queued', %s, 0, %s) ON CONFLICT DO NOTHING")
"""A job's insert; :meth:`PostgresQueue.enqueue` adds its ``NOTIFY`` to it, and an
activation's write (:mod:`.activation_write`) uses it as one of its parts."""

_CLAIMED = (
    "RETURNING jobs.id, jobs.kind, jobs.key, jobs.payload, jobs.attempts, jobs.run_at) "
    "SELECT c.id AS job_id, c.kind AS job_kind, c.key AS job_key, c.payload AS job_payload, "
    "c.attempts AS job_attempts, c.run_at AS job_run_at, ctx.* FROM claimed c "
    f"LEFT JOIN LATERAL ({codec.USER_CONTEXT_SELECT} WHERE c.kind = '{SYNC_KIND}' AND "
    f"left(c.key, {len(SYNC_KEY_PREFIX)}) = '{SYNC_KEY_PREFIX}' AND "
    f"u.id = substr(c.key, {len(SYNC_KEY_PREFIX) + 1})) ctx ON true")
"""The end of a claim: the claimed job's columns (``job_``), and for a ``sync`` job its
user's :data:`.codec.USER_CONTEXT_SELECT` columns read by the same statement, the user
named by the job's key (:func:`.codec.sync_job_user`; NULL for another kind). Nothing in
it can fail on a damaged row: the payload is not read in SQL."""

_CLAIM = (
    "WITH next AS (SELECT id FROM jobs q WHERE state = 'queued' AND run_at <= %s AND "
    "NOT EXISTS (SELECT 1 FROM jobs r WHERE r.lane = q.lane AND r.state = 'running') "
    "ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED), "
    "claimed AS (UPDATE jobs SET state = 'running', attempts = attempts + 1, "
    "lease_until = %s, claimed_by = %s "
    "FROM next WHERE jobs.id = next.id " + _CLAIMED)

_ENQUEUE_MANY = (
    "WITH added AS (INSERT INTO jobs (kind, key, lane, payload, state, run_at, attempts, "
    "created_at) SELECT v.kind, v.key, v.lane, v.payload, 'queued', v.run_at, 0, %s "
    "FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::float8[]) "
    "AS v(kind, key, lane, payload, run_at) ON CONFLICT DO NOTHING RETURNING key) ")
"""``Store.enqueue_many`` in one statement (the created time, five column arrays), followed
by :data:`_ADDED_NOTIFIED` or :data:`_ADDED`."""
_ADDED_NOTIFIED = "SELECT key, pg_notify(%s, %s || ' ' || key) FROM added"
"""Each added job's key and ``NOTIFY`` (the channel, the sender), as :meth:`enqueue`."""
_ADDED = "SELECT key FROM added"

_FINISH_AND_CLAIM = (
    "WITH done AS (DELETE FROM jobs WHERE id = %s AND state = 'running' AND claimed_by = %s "
    "RETURNING id, lane), "
    "next AS (SELECT id FROM (SELECT q.id FROM jobs q WHERE q.lane = (SELECT lane FROM done) "
    "AND q.state = 'queued' AND q.run_at <= %s AND EXISTS (SELECT 1 FROM jobs o WHERE "
    "o.state = 'running' AND o.claimed_by <> %s) ORDER BY q.run_at, q.id LIMIT 1 "
    "FOR UPDATE SKIP LOCKED) own_lane UNION ALL SELECT id FROM (SELECT id FROM jobs q "
    "WHERE state = 'queued' AND run_at <= %s AND "
    "NOT EXISTS (SELECT 1 FROM jobs r WHERE r.lane = q.lane AND r.state = 'running' "
    "AND r.id NOT IN (SELECT id FROM done)) ORDER BY run_at, id LIMIT 1 "
    "FOR UPDATE SKIP LOCKED) oldest LIMIT 1), "
    "claimed AS (UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = %s, "
    "claimed_by = %s "
    "FROM next WHERE jobs.id = next.id AND (SELECT count(*) FROM done) >= 0 " + _CLAIMED)
"""A finish and the next claim in one statement. While another process runs a job, the
claim prefers a due job of the finished job's lane (``own_lane``: the same user's next
job, such as the sync an activation queued, runs where that user's token and data key
are at hand instead of in a process that would mint and read them again), then takes
the oldest due job of a free lane (``oldest``); ``UNION ALL`` under ``LIMIT 1`` reads
the second only when the first has no row, and each locks only the row it returns. A
process alone keeps the queue's order: it holds every user's token and key anyway, and
running each user's jobs back to back measured 5-10 % slower for one process
(docs/performance.md, "A finished job's lane first").

Every part sees the snapshot from before the deletion, so the lane test leaves the
finished job out by id (only when it was deleted: a job this store no longer holds,
because its lease lapsed and another process took it, is neither deleted nor left out);
the deletion runs first (the update's condition reads ``done``,
an init plan evaluated before any row is updated), so by the time the claimed job
becomes ``running`` the finished one is gone from ``jobs_one_running_per_lane``."""


class PostgresQueue(PostgresConnection):
    """Jobs, coalesced by key and serialized by lane across processes."""

    shares_database = True

    @cached_property
    def notify_source(self) -> str:
        """This store's name: the sender in its ``NOTIFY`` payloads (a new job's payload
        adds its key: the server folds equal notifications of one transaction into one,
        and a group commit may queue several jobs), and the holder (``jobs.claimed_by``)
        of the jobs it claims; its process and a token of its own."""
        return f"{PROCESS_ID}/{secrets.token_hex(6)}"

    async def enqueue(self, kind: str, key: str, payload: Mapping[str, Any], run_at: datetime,
                      *, lane: str | None = None, notify: bool = True) -> bool:
        params = (kind, key, lane or key, json.dumps(dict(payload)), ts(run_at), time.time())
        if not notify:
            return bool(await self.execute(ENQUEUE, params))
        rows = await self.fetch_written(  # one statement: the row and its NOTIFY together
            f"WITH added AS ({ENQUEUE} RETURNING key) "
            "SELECT pg_notify(%s, %s || ' ' || key) FROM added",
            (*params, JOBS_CHANNEL, self.notify_source))
        return bool(rows)

    async def enqueue_many(self, jobs: Sequence[QueuedJob], *, notify: bool = True
                           ) -> list[bool]:
        """One statement for the whole list: the rows as an ``unnest`` of binary column
        arrays, each added row's ``NOTIFY`` with it (as :meth:`enqueue`, one per job)."""
        first: dict[str, QueuedJob] = {}  # a key given twice is added at most once
        for job in jobs:
            first.setdefault(job.key, job)
        if not first:
            return []
        unique = list(first.values())
        params = (time.time(), [job.kind for job in unique], [job.key for job in unique],
                  [job.lane or job.key for job in unique],
                  [json.dumps(dict(job.payload)) for job in unique],
                  [ts(job.run_at) for job in unique])
        if notify:
            rows = await self.fetch_written(_ENQUEUE_MANY + _ADDED_NOTIFIED,
                                            (*params, JOBS_CHANNEL, self.notify_source))
        else:
            rows = await self.fetch_written(_ENQUEUE_MANY + _ADDED, params)
        added = {row["key"] for row in rows}
        return [job.key in added and first[job.key] is job for job in jobs]

    async def claim(self, now: datetime, lease_seconds: float) -> Job | None:
        for _attempt in range(20):
            try:  # one statement in autocommit, never in a group (see the class docs)
                async with self.connection() as conn:
                    cursor = await conn.execute(_CLAIM, (ts(now), now.timestamp()
                                                         + lease_seconds, self.notify_source))
                    row = await cursor.fetchone()
            except pg_errors.UniqueViolation:
                continue  # another process started a job of this lane meanwhile
            return await self._claimed(row)
        return None

    async def finish_and_claim(self, job_id: int, now: datetime, lease_seconds: float
                               ) -> Job | None:
        """One statement (:data:`_FINISH_AND_CLAIM`), alone in autocommit like a claim."""
        me = self.notify_source
        params = (job_id, me, ts(now), me, ts(now), now.timestamp() + lease_seconds, me)
        try:
            async with self.connection() as conn:
                row = await (await conn.execute(_FINISH_AND_CLAIM, params)).fetchone()
        except pg_errors.UniqueViolation:  # another process started a job of that lane
            await self.finish(job_id)  # nothing of the statement stands: one at a time
            return await self.claim(now, lease_seconds)
        return await self._claimed(row)

    async def _claimed(self, row: Mapping[str, Any] | None) -> Job | None:
        """A claim's row (:data:`_CLAIMED`) as the job, with its user's context when the
        statement read one."""
        if row is None:
            return None
        run_at = dt(row["job_run_at"])
        assert run_at is not None
        job = Job(id=row["job_id"], kind=row["job_kind"], key=row["job_key"],
                  payload=codec.job_payload(row["job_id"], row["job_payload"]),
                  attempts=row["job_attempts"],
                  run_at=run_at)
        if row["id"] is None:
            return job
        return replace(job, context=await codec.claimed_context(self.cipher, row))

    async def finish(self, job_id: int) -> None:
        await self.execute("DELETE FROM jobs WHERE id = %s AND state = 'running' AND "
                           "claimed_by = %s", (job_id, self.notify_source))

    async def retry(self, job_id: int, error: str, run_at: datetime | None) -> None:
        for _attempt in range(20):
            try:
                await self._retry_once(job_id, error, run_at)
                return
            except pg_errors.UniqueViolation:
                continue  # a request for the key was queued meanwhile: merge into it

    async def _retry_once(self, job_id: int, error: str, run_at: datetime | None) -> None:
        await self.write(lambda conn: _retry_job(conn, job_id, error, run_at,
                                                 self.notify_source))

    async def extend_leases(self, job_ids: Sequence[int], until: datetime) -> int:
        if not job_ids:
            return 0
        return await self.execute("UPDATE jobs SET lease_until = %s WHERE state = 'running' "
                                  "AND id = ANY(%s) AND claimed_by = %s",
                                  (ts(until), list(job_ids), self.notify_source))

    async def requeue_running(self, now: datetime | None = None) -> int:
        lapsed = "state = 'running'" + ("" if now is None else " AND lease_until < %s")
        params: tuple[Any, ...] = () if now is None else (ts(now),)

        async def work(conn: Conn) -> int:
            merged = await conn.execute(
                f"DELETE FROM jobs r WHERE {lapsed} AND EXISTS (SELECT 1 FROM jobs q "
                "WHERE q.key = r.key AND q.state = 'queued')", params)
            back = await conn.execute(
                f"UPDATE jobs SET state = 'queued', lease_until = NULL WHERE {lapsed}", params)
            count = int(merged.rowcount) + int(back.rowcount)
            if count:
                await conn.execute("SELECT pg_notify(%s, %s)",
                                   (JOBS_CHANNEL, self.notify_source))
            return count

        for _attempt in range(20):
            try:
                return await self.write(work)
            except pg_errors.UniqueViolation:
                continue  # a job of the same key was queued meanwhile: merge it instead
        return 0

    async def job_counts(self) -> dict[str, int]:
        rows = await self.fetch("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        return {row["state"]: int(row["n"]) for row in rows}

    async def listen_for_jobs(self, wake: Callable[[], None]) -> None:
        """Call ``wake()`` whenever another store or process queues a job; runs until
        cancelled.

        Holds one dedicated connection (not from the pool) that ``LISTEN``s on
        :data:`JOBS_CHANNEL`; notifications this store sent are skipped.
        """
        own = self.notify_source
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute(f"LISTEN {JOBS_CHANNEL}")
            wake()  # listening now: jobs queued before are worth a look
            async for notice in conn.notifies():
                if notice.payload.split(" ", 1)[0] != own:
                    wake()


async def _retry_job(conn: Conn, job_id: int, error: str, run_at: datetime | None,
                     source: str) -> None:
    """Re-queue (or park) a failed job, merging it into a newer request of its key."""
    cursor = await conn.execute("SELECT key, attempts FROM jobs WHERE id = %s AND state = "
                                "'running' AND claimed_by = %s FOR UPDATE", (job_id, source))
    row = await cursor.fetchone()
    if row is None:
        return
    if run_at is None:  # one statement: the key's older parked job goes
        await conn.execute("WITH older AS (DELETE FROM jobs WHERE key = %s AND "
                           "state = 'parked') UPDATE jobs SET state = 'parked', "
                           "last_error = %s WHERE id = %s", (row["key"], error, job_id))
        return
    cursor = await conn.execute("SELECT id FROM jobs WHERE key = %s AND "
                                "state = 'queued' FOR UPDATE", (row["key"],))
    queued = await cursor.fetchone()
    if queued is not None:  # a newer request takes the failed run's place, its backoff
        # and its attempts (see Store.retry)
        await conn.execute("DELETE FROM jobs WHERE id = %s", (job_id,))
        await conn.execute("UPDATE jobs SET run_at = GREATEST(run_at, %s), attempts = "
                           "GREATEST(attempts, %s), last_error = %s WHERE id = %s",
                           (ts(run_at), row["attempts"], error, queued["id"]))
    else:
        await conn.execute("UPDATE jobs SET state = 'queued', run_at = %s, "
                           "last_error = %s, lease_until = NULL WHERE id = %s",
                           (ts(run_at), error, job_id))
    await conn.execute("SELECT pg_notify(%s, %s)", (JOBS_CHANNEL, f"{source} {row['key']}"))

