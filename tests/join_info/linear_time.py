"""Growth-rate measurement for the linear-time tests of join-information parsing.

Time is measured, not asserted in seconds: each input is built at 10 KB, 100 KB and 1 MB,
and the time at 1 MB is compared with the time at 10 KB *in the same test run*. A linear
parser takes about 100 times longer for 100 times the input; a quadratic one takes
10,000 times longer. The allowed ratio (:data:`ALLOWED_RATIO`) sits in between, with
room for a loaded machine, and the 10 KB time has a floor (:data:`FLOOR_SECONDS`) so
that timer resolution cannot make a microsecond baseline look like a blow-up.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import time
from collections.abc import Callable, Iterator

import hybrid_calendar.join_info as join_info_package

SIZES = (10_000, 100_000, 1_000_000)
ALLOWED_RATIO = 1_000.0
"""Time at 1 MB over time at 10 KB: 100 when linear, 10,000 when quadratic."""
ALLOWED_STEP = 50.0
"""Time at 100 KB over time at 10 KB: 10 when linear, 100 when quadratic. Measuring stops
there when it is above (a quadratic parser would take minutes on 1 MB)."""
FLOOR_SECONDS = 1e-3
"""The 10 KB time counts as at least this much (timer noise on a busy machine)."""

GENERIC_UNITS = ("a", "1", " ", ".", "a.", "a-", "<a ", "<!", "@", "a@", ":", "/", "*",
                 "**a", "__;", "=", "=3D", "href=\"", "http://", "://", "sip:", ")",
                 "(", "\n", "a\n", "%", "&amp;", ".com/", "a1.", "\u00a0")
"""Repeated units that partially match many patterns and then fail."""


def repeat_to(unit: str, size: int, prefix: str = "") -> str:
    """``prefix`` followed by ``unit`` repeated to ``size`` characters in all."""
    body = unit * (max(0, size - len(prefix)) // len(unit) + 1)
    return (prefix + body)[:size]


def seconds(action: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` runs of ``action`` (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def growth(run: Callable[[str], object], build: Callable[[int], str]) -> tuple[float, ...]:
    """Times of ``run`` on ``build(size)`` for each of :data:`SIZES`."""
    times: list[float] = []
    for size in SIZES:
        text = build(size)
        times.append(seconds(functools.partial(run, text),
                             repeats=2 if size < 1_000_000 else 1))
        if too_slow(tuple(times)):
            break
    return tuple(times)


def too_slow(times: tuple[float, ...]) -> bool:
    """Whether time grew faster than the size: from 10 KB to 100 KB by more than
    :data:`ALLOWED_STEP`, or from 10 KB to 1 MB by more than :data:`ALLOWED_RATIO`."""
    floored = [max(took, FLOOR_SECONDS) for took in times]
    if len(floored) > 1 and floored[1] > ALLOWED_STEP * floored[0]:
        return True
    return len(times) == len(SIZES) and times[-1] > ALLOWED_RATIO * floored[0]


def scan(pattern: re.Pattern[str]) -> Callable[[str], object]:
    """Every way the parser uses a pattern: find all matches, and match the whole text."""
    def run(text: str) -> object:
        for _ in pattern.finditer(text):
            pass
        return pattern.fullmatch(text)
    return run


def literal_units(pattern: re.Pattern[str]) -> list[str]:
    """Literal fragments of the pattern's source, used as repeated adversarial units."""
    source = re.sub(r"\\[dwsbWSDBAZ]|\[[^\]]*\]|\{\d*,?\d*\}|\(\?[:!=<]*", "|", pattern.pattern)
    pieces = {piece.replace("\\", "") for piece in re.split(r"[|()*+?^$]+", source)}
    return sorted(piece for piece in pieces if piece)[:12]


def join_info_patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    """Every compiled pattern of ``hybrid_calendar.join_info``: module constants, the
    patterns of the service catalog and of the labels, as ``(name, pattern)``."""
    seen: set[int] = set()
    for info in pkgutil.iter_modules(join_info_package.__path__):
        module = importlib.import_module(f"{join_info_package.__name__}.{info.name}")
        for name, value in vars(module).items():
            for label, pattern in _patterns_in(f"{info.name}.{name}", value, depth=2):
                if id(pattern) not in seen:
                    seen.add(id(pattern))
                    yield label, pattern


def _patterns_in(name: str, value: object, depth: int
                 ) -> Iterator[tuple[str, re.Pattern[str]]]:
    if isinstance(value, re.Pattern):
        if isinstance(value.pattern, str):
            yield name, value
        return
    if depth == 0 or isinstance(value, (str, bytes, type)) or callable(value):
        return
    if isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            yield from _patterns_in(f"{name}[{index}]", item, depth - 1)
        return
    slots = getattr(type(value), "__slots__", ())
    attributes = dict(getattr(value, "__dict__", {}))
    attributes.update({slot: getattr(value, slot, None) for slot in slots})
    for attribute, item in attributes.items():
        if isinstance(item, re.Pattern):
            yield from _patterns_in(f"{name}.{attribute}", item, 0)
