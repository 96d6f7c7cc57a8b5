"""A full disk and a read-only data directory under a running ``serve``.

The gateway's data directory moves onto a small file system of its own (a ``tmpfs``
mounted for the purpose; where mounting is not allowed, the fallback is an
``RLIMIT_FSIZE`` on the ``serve`` process, raised again with ``prlimit``). ``serve``
runs without ``CAP_DAC_OVERRIDE`` (``setpriv``), so a ``chmod`` binds it as it binds any
service user. Each case:

1. takes space or write permission away while calendars change;
2. expects ``/readyz`` to turn 503 with a ``storage`` check naming the problem, exactly
   one ``storage unavailable`` log line, and no calls to Google while it lasts (the
   gateway takes no work it could not record);
3. gives space or permission back and expects ``/readyz`` 200 again and convergence
   (nothing lost: the store equals the emulator's window, one join block per keyword
   event).
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.chaos.gateway import StoreReader, wait_for
from tests.chaos.kill_runs import World

TRIPPED = "storage unavailable"
NO_PRIVILEGE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner",
                "--inh-caps=-dac_override,-dac_read_search,-fowner"]


def mount_small_fs(where: Path, megabytes: int) -> bool:
    """Mount a tmpfs of ``megabytes`` at ``where``; False when not allowed here."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700",
                           "chaos-data", str(where)], capture_output=True, check=False)
    return done.returncode == 0


def fill(directory: Path) -> Path:
    """Write a ballast file until the file system is full."""
    ballast = directory.parent / "ballast"
    chunk = 1 << 20
    with ballast.open("wb", buffering=0) as out:
        while chunk >= 512:
            try:
                out.write(b"\0" * chunk)
            except OSError as err:
                if err.errno not in (errno.ENOSPC, errno.EFBIG):
                    raise
                chunk //= 2
    return ballast


def log_count(world: World, text: str) -> int:
    """Lines of the serve log containing ``text``."""
    return world.serve.log.read_text(errors="replace").count(text)


def google_calls(world: World) -> int:
    """Calendar API calls the Google emulator has answered so far."""
    return int(world.emulators.call("request_count"))


def expect_stopped(world: World, label: str, lines_before: int) -> bool:
    """``/readyz`` 503 naming storage, one log line, no Google calls for a while."""
    try:
        wait_for(lambda: world.serve.readiness()[0] == 503, 30, f"{label}: /readyz 503")
    except TimeoutError as err:
        world.tally.note(str(err))
        return False
    status, checks = world.serve.readiness()
    storage = checks.get("storage") or {}
    calls = google_calls(world)
    world.calendars.bulk(world.calendars.users[0], 10)  # work arrives meanwhile
    world.calendars.keywords(world.calendars.users[1], 2)
    time.sleep(3.0)
    called = google_calls(world) - calls
    lines = log_count(world, TRIPPED) - lines_before
    ok = (not storage.get("healthy", True) and bool(storage.get("reason"))
          and lines == 1 and called == 0)
    print(f"  {label}: /readyz {status} storage={storage}, {lines} log line(s), "
          f"{called} Google call(s) while stopped", flush=True)
    if not ok:
        world.tally.note(f"{label}: expected readyz 503 with a storage reason, one log line "
                         f"and no Google calls; got {storage}, {lines}, {called}")
    return ok


def expect_resumed(world: World, label: str) -> bool:
    """``/readyz`` 200 again and convergence."""
    try:
        wait_for(lambda: world.serve.readiness()[0] == 200, 30, f"{label}: /readyz 200")
    except TimeoutError as err:
        world.tally.note(str(err))
        return False
    return world.converge(label, within=90)


def storage_case(world: World, label: str, take: Callable[[], None],
                 give: Callable[[], None]) -> None:
    """One case: take space or permission, check, give it back, check."""
    counts = (world.tally.lost, world.tally.duplicates)
    lines_before = log_count(world, TRIPPED)
    take()
    try:
        stopped = expect_stopped(world, label, lines_before)
    finally:
        give()
    resumed = expect_resumed(world, label)
    survived = stopped and resumed and (world.tally.lost, world.tally.duplicates) == counts
    print(f"{label}: {'survived' if survived else 'FAILED'}", flush=True)
    if survived:
        world.tally.faults_survived += 1
    else:
        world.tally.faults_failed.append(label)


@contextlib.contextmanager
def data_dir_on(world: World, mount_point: Path) -> Iterator[Path]:
    """Move the gateway's data directory to ``mount_point``/data and back afterwards."""
    serve = world.serve
    old = Path(serve.settings["gateway"]["data_dir"])
    serve.stop()
    new = mount_point / "data"
    shutil.copytree(old, new)
    serve.settings["gateway"]["data_dir"] = str(new)
    world.store = StoreReader(serve.database)
    try:
        yield new
    finally:
        serve.stop()
        shutil.rmtree(old)
        shutil.copytree(new, old)
        serve.settings["gateway"]["data_dir"] = str(old)
        world.store = StoreReader(serve.database)


def storage_faults(world: World, root: Path, *, mount: bool = True) -> None:
    """Disk full, then a read-only data directory (two faults of the tally).

    :param mount: try a ``tmpfs`` first (else straight to ``RLIMIT_FSIZE``).
    """
    serve = world.serve
    mount_point = root / "small"
    mounted = mount and mount_small_fs(mount_point, 64)
    if not mounted:
        mount_point.mkdir(exist_ok=True)
    # root ignores file permissions unless it drops CAP_DAC_OVERRIDE; others are bound
    serve.command_prefix = NO_PRIVILEGE if os.geteuid() == 0 else []
    try:
        with data_dir_on(world, mount_point) as data:
            serve.start()
            if not world.converge("storage: moved data directory", within=90):
                raise RuntimeError("no convergence after moving the data directory")
            if mounted:
                ballast: list[Path] = []
                storage_case(world, "disk full (tmpfs)",
                             lambda: ballast.append(fill(data)),
                             lambda: ballast.pop().unlink())
            else:
                disk_full_by_rlimit(world, data)
            storage_case(world, "read-only data directory (chmod 0555)",
                         lambda: data.chmod(0o555), lambda: data.chmod(0o700))
    finally:
        serve.command_prefix = []
        if mounted:
            subprocess.run(["umount", "-l", str(mount_point)], check=False)
        serve.start()


def disk_full_by_rlimit(world: World, data: Path) -> None:
    """Fallback without ``mount``: files of ``serve`` may not grow past 16 KiB (writes
    within a file's size still work, as on a full disk)."""
    serve = world.serve
    limit = 16 * 1024  # no file of serve may grow past 16 KiB: the probe's 64 KiB fail too

    def take() -> None:
        assert serve.process is not None
        resource.prlimit(serve.process.pid, resource.RLIMIT_FSIZE,
                         (limit, resource.RLIM_INFINITY))  # soft only: raised back freely

    def give() -> None:
        assert serve.process is not None
        unlimited = resource.RLIM_INFINITY
        resource.prlimit(serve.process.pid, resource.RLIMIT_FSIZE, (unlimited, unlimited))

    storage_case(world, "disk full (RLIMIT_FSIZE)", take, give)
    os.sync()
