"""Time-ordered identifiers: UUID version 7 (RFC 9562), written as 32 lowercase hex digits.

A user's id leads every key of the user's rows (meetings, Join buttons, sync state,
channels, keys). With random ids (UUID version 4) the users an admin adds together land
at random places in each of those B-trees, so every user's first sync splits pages all
over each index and a commit covering several users writes one scattered page per user
and index. Ids ordered by creation keep the users of one onboarding next to each other:
their rows are appended at the right-hand edge of each index, the pages fill up, and a
shared commit writes fewer of them (docs/performance.md: 22 % fewer bytes written by an
onboarding of 1,000 users). PostgreSQL's B-trees gain the same locality.

Layout (RFC 9562, section 5.7): 48 bits of Unix time in milliseconds, the version (7),
12 + 62 bits that count up from a random start drawn in each new millisecond (the RFC's
"monotonic random" method, section 6.2), and the variant (``10``). Ids made by one process
strictly increase, even when the clock steps back; ids made by different processes in
the same millisecond start from independent 74-bit random values (a forked child draws
its own). An id tells when it was made, to the millisecond, and nothing else. It is not a
secret: the ids of one batch follow from each other, so nothing that grants access may be
one (user ids are not: every route naming a user asks for the admin's or the user's
credential; channel ids and tokens stay random).
"""

from __future__ import annotations

import os
import threading
import time

_COUNTER_BITS = 74
_COUNTER_MAX = (1 << _COUNTER_BITS) - 1
_RANDOM_START_BITS = 73
"""A new millisecond's counter starts below 2**73: at least 2**73 more ids fit in it."""
_LOW_BITS = 62

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def _forget_in_child() -> None:
    """A forked child starts a new count: it would otherwise make the very ids its parent
    makes next, in the same millisecond."""
    global _last_ms, _counter
    _last_ms, _counter = 0, 0


os.register_at_fork(after_in_child=_forget_in_child)


def time_ordered_id() -> str:
    """A fresh UUID version 7 as 32 lowercase hex digits (the shape ``uuid4().hex`` has):
    later ids from this process compare greater, as strings too."""
    global _last_ms, _counter
    now_ms = time.time_ns() // 1_000_000
    with _lock:
        if now_ms > _last_ms:
            _last_ms = now_ms
            _counter = int.from_bytes(os.urandom(10), "big") >> (80 - _RANDOM_START_BITS)
        elif _counter < _COUNTER_MAX:  # the same millisecond, or the clock stepped back
            _counter += 1
        else:  # the millisecond is used up (2**73 ids at least): borrow the next one
            _last_ms += 1
            _counter = int.from_bytes(os.urandom(10), "big") >> (80 - _RANDOM_START_BITS)
        millis, count = _last_ms, _counter
    value = ((millis & ((1 << 48) - 1)) << 80 | 0x7 << 76
             | (count >> _LOW_BITS) << 64 | 0b10 << 62 | (count & ((1 << _LOW_BITS) - 1)))
    return f"{value:032x}"
