"""Garbage-collector tuning, in a child process so the test run's own GC is untouched."""

from __future__ import annotations

import subprocess
import sys


def test_tuning_freezes_start_up_objects_and_raises_the_threshold() -> None:
    code = ("import gc\nfrom hybrid_calendar.runtime import tune_garbage_collector\n"
            "assert tune_garbage_collector(0) == 0 and gc.get_freeze_count() == 0\n"
            "frozen = tune_garbage_collector(12345)\n"
            "assert frozen == gc.get_freeze_count() > 1000, frozen\n"
            "assert gc.get_threshold()[0] == 12345\nprint('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "ok", result.stderr
