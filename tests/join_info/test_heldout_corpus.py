"""The held-out invitation corpus (``corpus/heldout.jsonl``) through the real plugin.

Each line is a Google Calendar event resource and the join result a person reading the
invitation would pick (or ``null``). The events go through the same path as in the
gateway: ``event_from_google`` → ``Hooks.parse_join_info`` (built-in ``join_info`` plugin)
→ ``best_join_info``; and once through ``hybrid-calendar parse-join --jsonl`` in a
subprocess. A line marked ``known_miss`` is a documented gap: it must still fail (strict
xfail), so fixing it forces the mark to be removed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hybrid_calendar.hooks import Hooks
from hybrid_calendar.join_info import best_join_info
from hybrid_calendar.plugins import get_plugin_manager
from hybrid_calendar_google.event_json import event_from_google
from hybrid_calendar_google.parse_join import join_to_json

CORPUS = Path(__file__).with_name("corpus") / "heldout.jsonl"
LINES: list[dict[str, Any]] = [json.loads(line) for line in
                               CORPUS.read_text(encoding="utf-8").splitlines()]
HOOKS = Hooks(get_plugin_manager(["join_info"], load_entrypoints=False))


def outcome(result: dict[str, Any] | None, expected: dict[str, Any] | None) -> bool:
    """Whether ``result`` (``parse-join`` JSON) is what ``expected`` asks for."""
    if expected is None or result is None:
        return expected is result
    keys = ("provider", "url", "source") + (("dial",) if "dial" in expected else ())
    return all(result.get(key) == expected[key] for key in keys)


def run_hooks(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The gateway's path: conversion, every plugin's candidates, ranking."""
    candidates = HOOKS.parse_join_info(event_from_google(resource))
    return join_to_json(best_join_info(candidates))


def _param(line: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=line["known_miss"])] \
        if line.get("known_miss") else []
    return pytest.param(line, id=line["name"], marks=marks)


def test_corpus_is_large_and_varied() -> None:
    names = [line["name"] for line in LINES]
    assert len(names) == len(set(names)) >= 90
    negatives = sum(line["expected"] is None for line in LINES)
    providers = {line["expected"]["provider"] for line in LINES if line["expected"]}
    sources = {line["expected"]["source"] for line in LINES if line["expected"]}
    assert negatives >= 15 and len(providers) >= 20 and sources == {
        "conference", "location", "body"}


@pytest.mark.parametrize("line", [_param(line) for line in LINES])
def test_heldout_line(line: dict[str, Any]) -> None:
    result = run_hooks(line["event"])
    assert outcome(result, line["expected"]), (result, line["expected"])


def test_parse_join_cli_agrees_with_the_hooks() -> None:
    script = Path(sys.executable).with_name("hybrid-calendar")
    feed = "".join(json.dumps(line["event"]) + "\n" for line in LINES)
    done = subprocess.run([str(script), "parse-join", "--jsonl"], input=feed,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    printed = [json.loads(text) for text in done.stdout.splitlines()]
    assert len(printed) == len(LINES)
    for line, result in zip(LINES, printed, strict=True):
        assert result == run_hooks(line["event"]), line["name"]
