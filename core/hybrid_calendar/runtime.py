"""Process-level tuning applied once the gateway has started.

CPython's cyclic garbage collector walks every tracked object of a generation when it
runs. After start-up the gateway holds many long-lived objects (plugin modules, the
bundled discovery documents, the meeting-service tables), and a sync allocates many
short-lived containers per event, so default collection thresholds make the collector a
visible share of sync time (measured in ``docs/performance.md``). Two standard remedies:

* :func:`gc.freeze` moves everything alive after start-up out of the collector's sight;
* a higher generation-0 threshold collects young objects less often (each collection
  still frees all cyclic garbage; memory grows by at most the threshold's worth of
  objects).
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

DEFAULT_GC_THRESHOLD = 50_000
"""Generation-0 threshold applied after start-up (CPython's default is 700)."""


def tune_garbage_collector(threshold: int = DEFAULT_GC_THRESHOLD) -> int:
    """Collect once, freeze the survivors, and raise the generation-0 threshold.

    :param threshold: new generation-0 threshold; ``0`` leaves the collector untouched.
    :returns: the number of objects frozen.
    """
    if threshold <= 0:
        return 0
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(threshold, gen1, gen2)
    frozen = gc.get_freeze_count()
    log.debug("garbage collector tuned: %d objects frozen, gen0 threshold %d", frozen,
              threshold)
    return frozen
