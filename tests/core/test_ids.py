"""Time-ordered ids (``hybrid_calendar.ids``): UUID version 7, increasing, unique."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from hybrid_calendar import ids
from hybrid_calendar.engine.activation import new_user_id
from hybrid_calendar.ids import time_ordered_id


@pytest.fixture(autouse=True)
def _restored_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that move the clock leave the module's last millisecond and counter as
    they found them (ids made later in this process stay in real time)."""
    monkeypatch.setattr(ids, "_last_ms", ids._last_ms)
    monkeypatch.setattr(ids, "_counter", ids._counter)


def test_an_id_is_a_uuid7_in_the_shape_of_uuid4_hex() -> None:
    before = time.time_ns() // 1_000_000
    value = time_ordered_id()
    after = time.time_ns() // 1_000_000
    assert len(value) == 32 and value == value.lower() and int(value, 16) >= 0
    parsed = uuid.UUID(hex=value)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert before <= int(value[:12], 16) <= after  # its first 48 bits: when it was made


def test_user_ids_made_together_increase_in_creation_order() -> None:
    made = [new_user_id() for _ in range(5_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_ids_keep_increasing_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    start = time.time_ns() + 10**12  # later than any id made so far in this process
    clock = iter([start, start, start - 5 * 10**9, start - 10**6, start + 10**6])
    monkeypatch.setattr(time, "time_ns", lambda: next(clock))
    made = [time_ordered_id() for _ in range(5)]
    assert made == sorted(made) and len(set(made)) == 5
    assert {value[:12] for value in made[:4]} == {f"{start // 10**6:012x}"}


def test_a_used_up_millisecond_borrows_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time_ns() + 2 * 10**12
    monkeypatch.setattr(time, "time_ns", lambda: now)
    first = time_ordered_id()
    monkeypatch.setattr(ids, "_counter", ids._COUNTER_MAX)
    second = time_ordered_id()
    assert second > first
    assert int(second[:12], 16) == now // 10**6 + 1
    assert uuid.UUID(hex=second).version == 7


def test_ids_from_several_threads_are_unique() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def work(into: list[str]) -> None:
        into.extend(time_ordered_id() for _ in range(2_000))

    threads = [threading.Thread(target=work, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for into in made for value in into]
    assert len(set(every)) == len(every)
    assert all(into == sorted(into) for into in made)


def test_the_random_part_differs_between_milliseconds() -> None:
    """Each millisecond starts its count at a fresh random value: two ids of different
    milliseconds share no counter bits by construction (collisions between processes
    would need the same 74-bit start in the same millisecond)."""
    first = time_ordered_id()
    time.sleep(0.002)
    second = time_ordered_id()
    assert first[:12] < second[:12]
    assert first[13:] != second[13:]


def test_a_forked_child_does_not_make_its_parents_next_id(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Parent and child in the same millisecond: without a fresh start the child's first
    id would be the parent's next one."""
    frozen = time.time_ns() + 3 * 10**12
    monkeypatch.setattr(time, "time_ns", lambda: frozen)
    time_ordered_id()  # this millisecond's count has begun in the parent
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.write(write, time_ordered_id().encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read, "rb") as pipe:
        childs = pipe.read().decode()
    parents = time_ordered_id()
    assert len(childs) == 32 and childs != parents
    assert childs[:12] == parents[:12]  # the same millisecond
