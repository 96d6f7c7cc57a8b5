"""Prints the held-out accuracy per batch and every miss (the numbers in docs/join-info.md).

    .venv/bin/python tests/join_info/corpus/score.py

Uses whichever ``hybrid_calendar`` is importable, so ``PYTHONPATH=<old checkout>`` scores
an older version of the detector on the same corpus.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from hybrid_calendar.hooks import Hooks
from hybrid_calendar.join_info import best_join_info
from hybrid_calendar.plugins import get_plugin_manager
from hybrid_calendar_google.event_json import event_from_google
from hybrid_calendar_google.parse_join import join_to_json

CORPUS = Path(__file__).with_name("heldout.jsonl")


def correct(result: dict[str, Any] | None, expected: dict[str, Any] | None) -> bool:
    """Same comparison as the test: provider, url, source and (if given) dial."""
    if expected is None or result is None:
        return expected is result
    keys = ("provider", "url", "source") + (("dial",) if "dial" in expected else ())
    return all(result.get(key) == expected[key] for key in keys)


def main() -> None:
    """Score every line of the corpus through the real hook machinery."""
    hooks = Hooks(get_plugin_manager(["join_info"], load_entrypoints=False))
    total: Counter[int] = Counter()
    right: Counter[int] = Counter()
    for text in CORPUS.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        batch = line.get("batch", 1)
        total[batch] += 1
        result = join_to_json(best_join_info(hooks.parse_join_info(
            event_from_google(line["event"]))))
        if correct(result, line["expected"]):
            right[batch] += 1
        else:
            print(f"miss (batch {batch}): {line['name']}")
    for batch in sorted(total):
        print(f"batch {batch}: {right[batch]}/{total[batch]}")
    print(f"all: {sum(right.values())}/{sum(total.values())}")


if __name__ == "__main__":
    main()
