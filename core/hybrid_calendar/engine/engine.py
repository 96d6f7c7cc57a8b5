"""The background engine: workers draining the durable job queue, plus periodic loops.

* Workers (``sync.max_concurrency`` of them) claim jobs; a user's jobs share a lane so they
  never run concurrently; many sync requests for one user coalesce into one queued job.
* The sweep loop renews channels, re-syncs quiet users, polls presence and purges data
  outside the retention window (:mod:`hybrid_calendar.engine.sweeps`); of several
  processes on one database, only the holder of the sweep lease sweeps
  (:mod:`hybrid_calendar.engine.sweep_lease`).
* The notifier loop delivers Join buttons when due (:mod:`hybrid_calendar.engine.notify`).

* The lease loop renews the leases of this process's running jobs (a heartbeat) and
  re-queues jobs whose lease lapsed: the jobs of a process that died, when several
  processes share a database.
* Idle workers wait on an event each and claim only when woken
  (:mod:`hybrid_calendar.engine.idle`): a job queued here wakes an idle worker of this
  process and tells no other process; only when none is idle does the store tell the
  others (``Store.enqueue(notify=True)``: ``NOTIFY`` on PostgreSQL), whose listener
  (``Store.listen_for_jobs``) wakes one idle worker each. One poll tick a second per
  process wakes one idle worker for jobs due by time alone, or whose process died
  before claiming them.

* The storage loop probes the data directory (:mod:`hybrid_calendar.engine.storage`):
  while it takes no writes (disk full, read-only), no job, delivery or sweep runs.

A failed job is the gateway's only retry: it runs again later under the one policy of
:mod:`hybrid_calendar.engine.retries`, or is parked. On stop, jobs in flight get a grace
period to finish; those still running are re-queued. A starting process re-queues the
jobs a previous process left running: all of them on a database of its own, only those
whose lease lapsed on a shared one (the others belong to live processes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from hybrid_calendar.engine import activation, notify, sweeps, sync
from hybrid_calendar.engine.idle import IdleWorkers, Sleeper
from hybrid_calendar.engine.retries import RetryPolicy
from hybrid_calendar.engine.storage import StorageGuard, storage_directory, storage_problem
from hybrid_calendar.engine.sweep_lease import SweepLease
from hybrid_calendar.errors import ProviderError, StorageUnavailableError
from hybrid_calendar.models import Job
from hybrid_calendar.store.base import SYNC_KIND, QueuedJob

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

Handler = Callable[["Gateway", Job], Awaitable[None]]

HANDLERS: dict[str, Handler] = {
    SYNC_KIND: sync.run_sync_job,
    "activate": activation.run_activate_job,
    "deactivate": activation.run_deactivate_job,
}
"""Job kinds and the functions that run them."""

Result = TypeVar("Result")

IDLE_POLL_SECONDS = 1.0
"""How often one idle worker of each process looks for due jobs nobody woke it for."""


def user_lane(user_id: str) -> str:
    """The lane shared by all jobs of one user."""
    return f"user:{user_id}"


def user_job(kind: str, user_id: str, payload: Mapping[str, Any], run_at: datetime
             ) -> QueuedJob:
    """A job of one user: keyed ``<kind>:<user id>`` (one queued per kind and user), in
    the user's lane (:func:`user_lane`)."""
    return QueuedJob(kind, f"{kind}:{user_id}", payload, run_at, lane=user_lane(user_id))


class Engine:
    """Owns the worker and loop tasks of one gateway process."""

    def __init__(self, gateway: Gateway, *, grace_seconds: float = 20.0) -> None:
        self.gateway = gateway
        self.grace_seconds = grace_seconds
        self.running = False
        self._idle_workers = IdleWorkers()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        """Set while the store listens for other processes' jobs (``listen_for_jobs``)."""
        self._busy: dict[int, Job] = {}
        self._claiming = 0
        self._deferred: set[str] = set()  # users whose lane a job of ours holds and for
        # whom a job was queued meanwhile without waking anyone (see enqueue)
        self._idle = asyncio.Event()
        self.storage = StorageGuard(storage_directory(gateway.config))
        self._drains: list[Callable[[], Awaitable[None]]] = []
        self.sweep_lease = SweepLease(float(gateway.config.get("sync", "sweep_seconds")))
        """Sweeps in this process while it holds the store's sweep lease."""

    @property
    def lease_seconds(self) -> float:
        """How long a claimed job stays this process's without a heartbeat."""
        return float(self.gateway.config.get("sync", "lease_seconds"))

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy, from ``sync.job_max_attempts`` and ``sync.retry_*_seconds``."""
        config = self.gateway.config
        return RetryPolicy(max_attempts=int(config.get("sync", "job_max_attempts")),
                           base_seconds=float(config.get("sync", "retry_base_seconds")),
                           cap_seconds=float(config.get("sync", "retry_cap_seconds")))

    # public API -------------------------------------------------------------
    async def start(self) -> None:
        """Re-queue jobs a previous process left running, then start workers and loops."""
        store = self.gateway.store
        requeued = await store.requeue_running(
            self.gateway.clock.now() if store.shares_database else None)
        if requeued:
            log.info("re-queued %d job(s) left running by a previous process", requeued)
        caught_up = await sweeps.catch_up(self.gateway, self.gateway.clock.now())
        if caught_up:
            log.info("start-up catch-up: %d user(s) queued for an incremental sync", caught_up)
        workers = int(self.gateway.config.get("sync", "max_concurrency"))
        self._tasks = [asyncio.create_task(self._worker(i), name=f"worker-{i}")
                       for i in range(workers)]
        self._tasks.append(asyncio.create_task(self._loop(
            "sweep", self.sweep_lease.interval, self.sweep_lease.sweep), name="sweep"))
        self._tasks.append(asyncio.create_task(self._loop(
            "notify", float(self.gateway.config.get("notifications", "poll_seconds")),
            notify.deliver_due), name="notify"))
        # the heartbeat beats also while storage is tripped: the jobs in flight run on
        self._tasks.append(asyncio.create_task(self._loop(
            "leases", self.lease_seconds / 3, self._keep_leases, always=True), name="leases"))
        self._tasks.append(asyncio.create_task(self._watch_storage(), name="storage"))
        self._tasks.append(asyncio.create_task(self._poll(), name="idle-poll"))
        self._listener = asyncio.create_task(self._listen(), name="listen")
        self.running = True

    async def stop(self) -> None:
        """Stop taking jobs; let jobs in flight finish within the grace period."""
        if not self._tasks:
            return
        self._stopping.set()
        self._idle_workers.stop()  # also those in the middle of a claim, once it returns
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        _done, pending = await asyncio.wait(self._tasks, timeout=self.grace_seconds)
        interrupted = list(self._busy)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        try:
            if interrupted:  # cancelled mid-job: put them back for the next start
                await self._requeue_interrupted(interrupted)
            await self.sweep_lease.release(self.gateway)  # the next process sweeps at once
        finally:  # stopped, whatever the store said
            self._tasks = []
            self.running = False
            self._idle.set()  # nothing runs any more: release anyone waiting in until_idle

    async def _requeue_interrupted(self, interrupted: Sequence[int]) -> None:
        """Put the jobs a shutdown cancelled back in the queue. A store that fails now
        (the database went first) is logged: the jobs' leases lapse and the next start, or
        another process, re-queues them."""
        store = self.gateway.store
        try:
            if store.shares_database:  # only ours: other processes' jobs are running
                for job_id in interrupted:
                    await store.retry(job_id, "interrupted by shutdown",
                                      self.gateway.clock.now())
                count = len(interrupted)
            else:
                count = await store.requeue_running()
        except Exception as err:
            log.warning("%d job(s) interrupted by shutdown not re-queued now (the next start "
                        "or another process re-queues them once their leases lapse): %s: %s",
                        len(interrupted), type(err).__name__, err)
            return
        log.info("re-queued %d job(s) interrupted by shutdown", count)

    def add_drain(self, drain: Callable[[], Awaitable[None]]) -> None:
        """Register work a plugin holds in memory until it becomes jobs (the Google
        plugin's coalesced push hints): :meth:`until_idle` awaits every drain first."""
        self._drains.append(drain)

    async def until_idle(self) -> None:
        """Return once no job is running and none is due by the gateway's clock.

        Registered drains (:meth:`add_drain`) run first, then workers are woken, so after
        moving a manual clock past a retry's ``run_at`` this runs the retry before
        returning. Jobs due later do not count. For tests, the demo and one-shot
        commands; it waits on an event, never by polling.
        """
        if not self.running:
            raise RuntimeError("the engine is not running")
        for drain in list(self._drains):
            await drain()
        self._idle.clear()
        if not self._idle_workers.wake_all():
            self._idle_workers.generation += 1
        await self._idle.wait()

    async def request_sync(self, user_id: str, reason: str) -> bool:
        """Ask for a sync of one user (coalesced); returns True if a job was queued.

        While storage is unavailable nothing is queued (False): every active user is
        synced when writes work again.
        """
        try:
            return await self.enqueue(SYNC_KIND, user_id, {"user_id": user_id,
                                                          "reason": reason})
        except StorageUnavailableError:
            return False

    async def enqueue(self, kind: str, user_id: str, payload: dict[str, Any],
                      delay: timedelta = timedelta(0)) -> bool:
        """Queue a job for a user in the user's lane and wake one worker for it.

        * A job of this process holds the user's lane: nobody is woken, here or
          elsewhere (no claim can take the job before that one finishes); its worker
          claims the oldest due job as it finishes, and should that not be the new one,
          an idle worker of this process is woken then.
        * Else an idle worker of this process is taken before the write and woken after
          the commit, and no other process is told (no ``NOTIFY``): its claim sees the
          job. Should this process die in between, the job is queued and due, and the
          poll tick of any other process finds it within :data:`IDLE_POLL_SECONDS`.
        * Else (every worker here busy) the store tells the other processes, whose
          listeners wake an idle worker each, and workers here in the middle of a claim
          look once more.

        :raises StorageUnavailableError: the data directory takes no writes.
        """
        job = user_job(kind, user_id, payload, self.gateway.clock.now() + delay)
        return await self._queue([user_id], lambda notify: self.gateway.store.enqueue(
            job.kind, job.key, job.payload, job.run_at, lane=job.lane, notify=notify))

    async def enqueue_many(self, kind: str, jobs: Sequence[tuple[str, dict[str, Any]]]
                           ) -> list[bool]:
        """:meth:`enqueue` for many users at once (``(user id, payload)`` pairs, no
        delay): one store call (``Store.enqueue_many``), with the wakes :meth:`enqueue`
        gives each: an idle worker of this process is taken for each job whose lane this
        process does not hold, as far as there are idle ones; other processes are told
        (``notify``, for the whole call) only when some job is left without one.

        :raises StorageUnavailableError: the data directory takes no writes.
        """
        now = self.gateway.clock.now()
        return await self._queue(
            [user_id for user_id, _payload in jobs],
            lambda notify: self.gateway.store.enqueue_many([
                user_job(kind, user_id, payload, now) for user_id, payload in jobs], notify=notify))

    async def queue_with(self, user_id: str, write: Callable[[bool], Awaitable[Result]]
                         ) -> Result:
        """Run ``write(notify)``, a store write that queues one job in ``user_id``'s lane
        along with writes of its own (e.g. ``Store.write_activation``), with the wakes
        :meth:`enqueue` gives a job: ``notify`` tells the store whether to wake the other
        processes.

        :raises StorageUnavailableError: the data directory takes no writes.
        """
        return await self._queue([user_id], write)

    async def _queue(self, user_ids: Sequence[str],
                     write: Callable[[bool], Awaitable[Result]]) -> Result:
        """Run ``write(notify)`` (queuing one job per entry of ``user_ids``) with the wakes
        :meth:`enqueue` describes: an idle worker of this process is reserved for each job
        whose lane this process does not hold, as far as there are idle ones, and woken
        after the commit; ``notify`` (tell the other processes) is True when some such
        job is left without one. Afterwards a job whose lane is still held here waits for
        that lane's release (:meth:`_lane_released`); every other job left without a
        worker wakes one that turned idle meanwhile, or makes claims in flight look once
        more."""
        held = {user_id for user_id in user_ids if self._runs_lane_of(user_id)}
        free = sum(1 for user_id in user_ids if user_id not in held)
        reserved: list[Sleeper] = []
        while len(reserved) < free and (worker := self._idle_workers.reserve()) is not None:
            reserved.append(worker)
        try:
            result = await self.storage.write(write(len(reserved) < free))
        finally:
            for worker in reserved:
                worker.wake()  # after the commit (or a failure: one claim for nothing)
        self._idle.clear()
        for user_id in held:
            if self._runs_lane_of(user_id):
                self._deferred.add(user_id)  # see _lane_released
            else:  # our job of that lane finished during the write
                self._idle_workers.wake_or_recheck()
        for _job in range(free - len(reserved)):
            self._idle_workers.wake_or_recheck()  # a worker may have turned idle meanwhile
        return result

    def _runs_lane_of(self, user_id: str) -> bool:
        """True when a job of this process is running in the user's lane."""
        return any(str(job.payload.get("user_id")) == user_id for job in self._busy.values())

    # internals -----------------------------------------------------------------
    async def _worker(self, index: int) -> None:
        store = self.gateway.store
        idle = self._idle_workers
        done: Job | None = None  # handled; its row goes with the next claim (one statement)
        cascade = index == 0  # the first worker looks at start; others when woken
        if index:
            cascade = await idle.sleep()
        while not self._stopping.is_set():
            generation = idle.generation
            job = None
            if done is not None:
                job = await self._finish(done, claim=self.storage.healthy)
                done = None
            elif self.storage.healthy:
                self._claiming += 1
                try:
                    job = await store.claim(self.gateway.clock.now(), self.lease_seconds)
                except Exception as err:
                    self.storage.failed("claiming a job", err)
                finally:
                    self._claiming -= 1
            if job is None:
                if generation != idle.generation and self.storage.healthy:
                    continue  # a job may have become due while claiming: look again
                if not self._busy and not self._claiming and not idle.woken:
                    self._idle.set()  # nothing due, nothing running, nobody claiming
                cascade = await idle.sleep()
                continue
            if cascade:  # more may be due at once: the next idle worker looks too
                idle.wake_one(cascade=True)
                cascade = False
            done = await self._run_job(job)
        if done is not None:  # stopping: finish it, claim nothing more
            await self._finish(done, claim=False)

    async def _finish(self, job: Job, *, claim: bool) -> Job | None:
        """Delete a job whose handler succeeded (busy until then) and, with ``claim``,
        take the next due job in the same store call (``finish_and_claim``: one statement
        on PostgreSQL instead of two)."""
        store = self.gateway.store
        self._claiming += claim
        claimed: Job | None = None
        try:
            if claim:
                claimed = await store.finish_and_claim(job.id, self.gateway.clock.now(),
                                                       self.lease_seconds)
            else:
                await store.finish(job.id)
        except Exception as err:  # the outcome could not be written: never lose the job
            self.storage.failed(f"recording job {job.id} ({job.kind})", err)
            self.storage.unrecorded[job.id] = f"{type(err).__name__}: {err}"
        finally:
            self._claiming -= claim
            self._busy.pop(job.id, None)
            self._lane_released(job, claimed)
        return claimed

    def _lane_released(self, job: Job, claimed: Job | None) -> None:
        """A job of ours left its lane: when a job was queued in that lane meanwhile
        without a wake (:meth:`enqueue`) and the worker's claim did not take it, an idle
        worker looks (the claim took another job, or found nothing: the queued job was
        not due, another process took it, or its commit came after the claim's
        snapshot)."""
        user_id = str(job.payload.get("user_id"))
        if user_id not in self._deferred:
            return
        self._deferred.discard(user_id)
        if claimed is None or str(claimed.payload.get("user_id")) != user_id:
            self._idle_workers.wake_one()

    async def _run_job(self, job: Job) -> Job | None:
        """Run a job's handler; the job back when it succeeded (still busy: the worker
        finishes it with its next claim), None when it failed (retried or parked)."""
        store = self.gateway.store
        handler = HANDLERS.get(job.kind)
        if handler is None:
            await store.retry(job.id, f"unknown job kind {job.kind!r}", None)
            return None
        self._busy[job.id] = job
        succeeded = False
        try:
            try:
                await handler(self.gateway, job)
                succeeded = True
            except Exception as err:
                await self._failed(job, err)
        except Exception as err:  # the outcome could not be written: never lose the job
            self.storage.failed(f"recording job {job.id} ({job.kind})", err)
            self.storage.unrecorded[job.id] = f"{type(err).__name__}: {err}"
        finally:
            if not succeeded:
                self._busy.pop(job.id, None)
                self._lane_released(job, None)  # its worker claims too, maybe another
        return job if succeeded else None

    async def _failed(self, job: Job, err: Exception) -> None:
        """Re-queue a failed job under the retry policy, or park it (see ``retries``).
        A job that failed because the disk refused a write runs again once writes work,
        whatever its attempts."""
        error = f"{type(err).__name__}: {err}"
        problem = storage_problem(err)
        if problem is not None:
            self.storage.trip(problem)
            await self.gateway.store.retry(job.id, error, self.gateway.clock.now())
            return
        if not isinstance(err, ProviderError):
            log.error("job %s (%s) failed: %s", job.id, job.kind, error, exc_info=err)
        else:
            log.warning("job %s (%s) failed: %s", job.id, job.kind, error)
        policy = self.retry_policy
        retry_at = (self.gateway.clock.now() + policy.delay(job.attempts, err)
                    if policy.retries(job.attempts, err) else None)
        if job.kind == SYNC_KIND:
            from hybrid_calendar.admin.health import record_sync_failure

            await record_sync_failure(self.gateway, str(job.payload.get("user_id")), err,
                                      retry_at)
        if retry_at is None:
            log.warning("job %s (%s) parked after %d attempt(s)", job.id, job.kind,
                        job.attempts)
        await self.gateway.store.retry(job.id, error, retry_at)
        if retry_at is None and job.kind == "activate":
            await activation.give_up_validation(self.gateway, str(job.payload["user_id"]), err)

    async def _poll(self) -> None:
        """Every :data:`IDLE_POLL_SECONDS`, one idle worker looks for due jobs (with
        ``cascade``: see :mod:`hybrid_calendar.engine.idle`); the other idle workers
        wait to be woken."""
        while not self._stopping.is_set():
            with anyio.move_on_after(IDLE_POLL_SECONDS):
                await self._stopping.wait()
            if self.storage.healthy and not self._stopping.is_set():
                self._idle_workers.wake_one(cascade=True)

    async def _listen(self) -> None:
        """Wake a worker whenever another process (or another store on the database)
        queues a job; this store's own enqueues are :meth:`enqueue`'s to wake for. The
        store's first call says it listens: jobs queued before are worth a look, with
        ``cascade`` (there may be several)."""
        while not self._stopping.is_set():
            first = True

            def wake() -> None:
                nonlocal first
                self._idle_workers.wake_or_recheck(cascade=first)
                if first:
                    first = False
                    self.listening.set()

            try:
                await self.gateway.store.listen_for_jobs(wake)
            except Exception:
                log.exception("listening for new jobs failed; listening again")
            self.listening.clear()
            with anyio.move_on_after(IDLE_POLL_SECONDS):
                await self._stopping.wait()

    async def _keep_leases(self, gateway: Gateway) -> None:
        """Renew the leases of this process's running jobs; re-queue lapsed ones."""
        now = gateway.clock.now()
        if self._busy:
            await gateway.store.extend_leases(list(self._busy),
                                              now + timedelta(seconds=self.lease_seconds))
        lapsed = await gateway.store.requeue_running(now)
        if lapsed:
            log.warning("re-queued %d job(s) whose lease lapsed (a process stopped)", lapsed)
            self._idle_workers.wake_or_recheck(cascade=True)

    async def _loop(self, name: str, interval: float,
                    body: Callable[[Gateway], Awaitable[object]], *,
                    always: bool = False) -> None:
        """Run ``body`` every ``interval`` seconds while storage is healthy (``always``:
        whatever its health; the heartbeat of jobs still running must not stop, or another
        process sharing the database takes them over and runs them a second time)."""
        while not self._stopping.is_set():
            if always or self.storage.healthy:
                try:
                    await body(self.gateway)
                except Exception as err:
                    self.storage.failed(f"{name} loop iteration", err)
            with anyio.move_on_after(interval):
                await self._stopping.wait()

    async def check_storage(self) -> bool:
        """Probe the data directory now; when writes work again, re-queue what was left
        and sync every active user before returning. True when writes work."""
        async with self.storage.lock:
            if await self.storage.check():
                await self.storage.resume(self.gateway, set(self._busy), self.request_sync)
                self._idle_workers.generation += 1
                self._idle_workers.wake_all()
        return self.storage.healthy

    async def _watch_storage(self) -> None:
        """Run :meth:`check_storage` every few seconds (every second while tripped)."""
        while not self._stopping.is_set():
            try:
                await self.check_storage()
            except Exception as err:
                self.storage.failed("resuming after storage recovered", err)
            with anyio.move_on_after(self.storage.interval):
                await self._stopping.wait()
