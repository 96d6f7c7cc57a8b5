"""Built-in ``join_info`` plugin: join-link detection and its settings.

``parse_join_info`` is a ``trylast`` implementation, so a third-party plugin can add
candidates (or a better detector) and the core still ranks them all with
:func:`hybrid_calendar.join_info.best_join_info`. Admin dial rules are read from
``join_info.dial_rules`` when the gateway starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hybrid_calendar import hookimpl
from hybrid_calendar.config import SettingSpec
from hybrid_calendar.join_info.detect import detect, find_candidates
from hybrid_calendar.join_info.dial import DialRule, parse_rules
from hybrid_calendar.join_info.keywords import DEFAULT_KEYWORDS

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import CalendarEvent, JoinInfo

SECTION = "join_info"

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(SECTION, "keywords", list, list(DEFAULT_KEYWORDS),
                help="Scheduling keywords as 'keyword=action' (actions: personal_room, "
                     "onetime, space, google_meet)."),
    SettingSpec(SECTION, "dial_rules", list, [],
                help="Admin dial rules 'REGEX => TEMPLATE' applied to join URLs before the "
                     "built-in ones (template uses \\1 or \\g<name>)."),
)


class _Rules:
    """The dial rules in effect (set at gateway start-up; none until then)."""

    current: tuple[DialRule, ...] = ()


@hookimpl
def register_settings(register: Callable[[SettingSpec], None]) -> None:
    """Declare ``join_info.keywords`` and ``join_info.dial_rules``."""
    for spec in SETTINGS:
        register(spec)


@hookimpl
def startup(gateway: Gateway) -> None:
    """Compile the admin dial rules of the running gateway's configuration."""
    _Rules.current = parse_rules(gateway.config.section(SECTION).get("dial_rules", []))


@hookimpl
def shutdown(gateway: Gateway) -> None:
    """Forget the dial rules of the stopping gateway."""
    _Rules.current = ()


@hookimpl(trylast=True)
def parse_join_info(event: CalendarEvent, register: Callable[[JoinInfo], None]) -> None:
    """Register every join candidate in the event's conference data, Location and body."""
    for candidate in find_candidates(event, _Rules.current):
        register(candidate)


def sole_implementation(hook: Any) -> bool:
    """Whether this plugin's :func:`parse_join_info` is the only implementation (wrappers
    included) of ``hook`` (``pm.hook.parse_join_info``). Then ``best_join_info`` of what
    the hook registers is :func:`detect_join_info` of the event: the same result, without
    the hook call, the candidates of sources that cannot win, or their ranking."""
    impls = hook.get_hookimpls()
    return len(impls) == 1 and impls[0].function is parse_join_info


def detect_join_info(event: CalendarEvent) -> JoinInfo | None:
    """The best join information of ``event`` with the dial rules in effect: what
    ``best_join_info`` makes of this plugin's candidates (see :func:`detect`)."""
    return detect(event, _Rules.current)
