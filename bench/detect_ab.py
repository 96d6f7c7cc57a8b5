"""Join detection, the frozen pre-optimisation copy against the current code, same run.

Times ``detect`` and ``best_join_info(find_candidates(...))`` (the engine's path) of
``tests/join_info/reference`` (the detector before the speed work of issue 14) and of
``hybrid_calendar.join_info`` on ``bench/parse_join.py``'s realistic mix, alternating
old and new each round, best of ``--rounds``, in CPU seconds of this process. Prints
µs per event for each and the speed-up; the last line is the summary.

    .venv/bin/python bench/detect_ab.py [--events 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from parse_join import make_events  # noqa: E402  (bench/ is not a package)

from hybrid_calendar.models import CalendarEvent  # noqa: E402
from hybrid_calendar_google.event_json import event_from_google  # noqa: E402


def _runner(module: ModuleType, mode: str, events: list[CalendarEvent]) -> Callable[[], None]:
    def run_detect() -> None:
        for event in events:
            module.detect(event)

    def run_ranked() -> None:
        for event in events:
            module.best_join_info(module.find_candidates(event))

    return run_detect if mode == "detect" else run_ranked


def main() -> None:
    """Run both detectors alternately and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    detectors = {"old": importlib.import_module("tests.join_info.reference.detect"),
                 "new": importlib.import_module("hybrid_calendar.join_info.detect")}
    events = [event_from_google(resource) for resource in make_events(args.events)]
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for mode in ("detect", "ranked"):
            for name, module in detectors.items():
                run = _runner(module, mode, events)
                start = time.process_time()
                run()
                took = time.process_time() - start
                best[mode, name] = min(best.get((mode, name), float("inf")), took)
    summary = []
    for mode in ("detect", "ranked"):
        old, new = best[mode, "old"], best[mode, "new"]
        per = 1e6 / args.events
        print(f"  {mode:<7} old {old * per:6.1f} µs/event ({args.events / old:>8,.0f}/s)   "
              f"new {new * per:6.1f} µs/event ({args.events / new:>8,.0f}/s)   "
              f"speed-up {old / new:.2f}x")
        summary.append(f"{mode} {args.events / new:,.0f} events/s ({old / new:.2f}x old)")
    print("detect_ab results: " + "; ".join(summary))


if __name__ == "__main__":
    main()
