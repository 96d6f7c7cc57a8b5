"""Hybrid Calendar gateway core.

The core is small: hook specifications (:mod:`hybrid_calendar.hookspecs`), the plugin
manager (:mod:`hybrid_calendar.plugins`), the typed hook facade
(:mod:`hybrid_calendar.hooks`), models, configuration, storage, the engine and the
Starlette app. Providers, sinks and key management are plugins.

Plugins import the marker from here::

    from hybrid_calendar import hookimpl
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "hybrid_calendar"
"""pluggy project name; also the entry-point group third-party plugins register under."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker for hook implementations: ``@hookimpl`` or ``@hookimpl(trylast=True)``."""

__version__ = "0.1.0"

__all__ = ["PROJECT_NAME", "__version__", "hookimpl"]
