"""Exceptions of the administration package.

::

    GatewayError                         (hybrid_calendar.errors)
    └── AdminError                       an administrative operation cannot be done
        ├── DataDirectoryInUseError      another gateway holds the data directory's lock
        ├── PreflightError               ``config check`` found problems that stop ``serve``
        └── ConflictError                the thing to create exists already (HTTP 409)

Messages are one line an administrator can act on; they never hold secrets.
"""

from __future__ import annotations

from hybrid_calendar.errors import GatewayError


class AdminError(GatewayError):
    """Base class of the administration package's errors."""


class DataDirectoryInUseError(AdminError):
    """Another gateway process holds the lock of this data directory."""


class PreflightError(AdminError):
    """The configuration or environment would stop ``serve``; the message lists why.

    :ivar problems: each problem as ``"key: message"``.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class ConflictError(AdminError):
    """What was to be created exists already."""
