"""Join-information parsing runs in time linear in its input (issue 15, item 1).

Each pattern of ``hybrid_calendar.join_info`` gets adversarial inputs of 10 KB, 100 KB and
1 MB, built from units that partially match it and then fail (its own literal fragments
and a generic set); so do the public entry points (:func:`unwrap`, :func:`find_candidates`
on every event field). A test fails when the time at 1 MB grew faster than the size
(:mod:`.linear_time` explains the measurement).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from hybrid_calendar.join_info import find_candidates, find_keyword
from hybrid_calendar.join_info.unwrap import unwrap

from .helpers import conference, event
from .linear_time import (
    GENERIC_UNITS,
    SIZES,
    growth,
    join_info_patterns,
    literal_units,
    repeat_to,
    scan,
    seconds,
    too_slow,
)

PATTERNS = dict(join_info_patterns())


def test_the_patterns_are_found() -> None:
    """The discovery covers module constants, the catalog and the labels."""
    names = " ".join(PATTERNS)
    assert "unwrap._PP_V3" in names and "extract._TAG" in names
    assert "catalog.SERVICES" in names and "MEETING_NUMBER.value" in names
    assert len(PATTERNS) > 40


def _worst_input(run: Callable[[str], object], inputs: list[tuple[str, str]]
                 ) -> tuple[str, str]:
    """The ``(prefix, unit)`` whose 10 KB input takes longest (a cheap first screen)."""
    return max(inputs, key=lambda pair: seconds(
        lambda: run(repeat_to(pair[1], SIZES[0], pair[0])), repeats=1))


def _assert_linear(run: Callable[[str], object], inputs: list[tuple[str, str]]) -> None:
    """Grow the worst of ``inputs`` (``(prefix, repeated unit)`` pairs) to 1 MB."""
    prefix, unit = _worst_input(run, inputs)
    times = growth(run, lambda size: repeat_to(unit, size, prefix))
    if too_slow(times):  # measure again before failing: one disturbed run is noise
        times = growth(run, lambda size: repeat_to(unit, size, prefix))
    measured = zip(SIZES, times, strict=False)  # fewer times when measuring stopped early
    assert not too_slow(times), f"{unit!r} after {prefix[:40]!r}: " + ", ".join(
        f"{size // 1000} KB {took * 1000:.1f} ms" for size, took in measured)


def _inputs(units: list[str], prefixes: tuple[str, ...] = ("",)) -> list[tuple[str, str]]:
    return [(prefix, unit) for prefix in prefixes for unit in units]


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_is_linear(name: str) -> None:
    pattern = PATTERNS[name]
    fragments = literal_units(pattern)
    # repeated units alone, then the pattern's own start followed by junk that keeps it going
    _assert_linear(scan(pattern), _inputs(list(GENERIC_UNITS) + fragments) + _inputs(
        ["a", "*", "_", "__;", " ", "/", "1"], tuple(fragments[:4])))


PROOFPOINT = "https://urldefense.com/v3/__https://x.example/"


@pytest.mark.parametrize("prefix", [
    PROOFPOINT, "https://urldefense.proofpoint.com/v2/url?u=",
    "https://www.google.com/url?q=", "https://eur01.safelinks.protection.outlook.com/?url=",
    "https://secure-web.cisco.com/", "https://x.protection.sophos.com/?u=", ""])
def test_unwrap_is_linear(prefix: str) -> None:
    _assert_linear(unwrap, _inputs(list(GENERIC_UNITS), (prefix,)))


def _location(text: str) -> object:
    return find_candidates(event(location=text))


def _description(text: str) -> object:
    return find_candidates(event(description=text))


def _conference_uri(text: str) -> object:
    return find_candidates(event(conference=conference(text)))


def _keyword(text: str) -> object:
    return find_keyword(text)


@pytest.mark.parametrize("run", [_location, _description, _conference_uri, _keyword])
def test_event_fields_are_linear(run: Callable[[str], object]) -> None:
    _assert_linear(run, _inputs(
        [*GENERIC_UNITS, "https://a.b/)", "a@b.com ", "<a href='x'>"],
        ("", "Join: https://zoom.us/j/123 ", PROOFPOINT, "https://example.webex.com/meet/")))


def test_hostile_proofpoint_is_fast_and_unwraps_nothing() -> None:
    """The input of the report: ``__;`` repeated without the closing ``!``."""
    hostile = repeat_to("__;", 300_000, PROOFPOINT)
    assert seconds(lambda: unwrap(hostile), repeats=1) < 1.0
    assert unwrap(hostile) == hostile


def test_the_scan_helper_catches_a_quadratic_pattern() -> None:
    """The measurement itself: a pattern known to backtrack polynomially fails it."""
    cubic = re.compile(r"x.*?x.*?y")
    # A 150th of each size, cubic: from 10 KB to 100 KB the search's time grows ≈ 1,000
    # times (≈ 0.7 ms to ≈ 0.65 s here), so the helper stops at 100 KB even when a busy
    # machine stretches the small run tenfold. (A tenth, quadratic, grew only 100 times:
    # a small run stretched twice under CI's load let the helper go on to 1 MB.)
    times = growth(lambda text: cubic.search(text[:len(text) // 150]),
                   lambda size: repeat_to("x", size))
    assert too_slow(times) and len(times) < len(SIZES)
