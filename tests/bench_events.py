"""The join benchmark's realistic event mix, for tests that compare old and new code
over it (``bench/parse_join.py`` is a script, not a package: it is loaded by path, once)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

PARSE_JOIN = Path(__file__).resolve().parents[1] / "bench" / "parse_join.py"


@cache
def _parse_join_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_parse_join", PARSE_JOIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_parse_join", module)
    spec.loader.exec_module(module)
    return module


def join_benchmark_events(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` Google event resources of ``bench/parse_join.py``'s mix (Google Meet
    conference data, Zoom, Teams, Webex and GoTo invitations, wrapped links, events
    without join information), the same for the same ``seed``."""
    events: list[dict[str, Any]] = _parse_join_bench().make_events(count, seed=seed)
    return events
