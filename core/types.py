"""Type aliases shared by the core and plugins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias, TypeVar

T = TypeVar("T")

JSON: TypeAlias = dict[str, Any]
"""A decoded JSON object."""

MaybeAwaitable: TypeAlias = "T | Awaitable[T]"
"""What a hook implementation may return: a value or a coroutine producing it."""

Settings: TypeAlias = Mapping[str, Any]
"""One configuration section, keys to validated values."""

CommandRunner: TypeAlias = Callable[[Any], int]
"""Runs a CLI sub-command with the parsed ``argparse.Namespace``; returns the exit status."""
