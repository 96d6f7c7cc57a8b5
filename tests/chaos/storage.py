"""Disk full and a read-only data directory (placeholder, filled in below)."""

from __future__ import annotations

from pathlib import Path

from tests.chaos.kill_runs import World


def storage_faults(world: World, root: Path) -> None:
    """Not yet."""
