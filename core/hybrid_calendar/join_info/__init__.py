"""Join information: keyword scheduling, join-link detection and invite rendering.

The engine uses these pure functions (documented in ``docs/join-info.md``):

* :func:`best_join_info` ranks the candidates of ``Hooks.parse_join_info``;
* :func:`find_keyword` finds a scheduling keyword in Location (:func:`keyword_config`
  builds an organisation's keyword table);
* :func:`is_processed` tells whether the gateway already wrote join details;
* :func:`plan_invite_update` renders the localized join block for ``update_invite``.
"""

from __future__ import annotations

from hybrid_calendar.join_info.detect import best_join_info, detect, find_candidates
from hybrid_calendar.join_info.keywords import KeywordConfig, find_keyword, keyword_config
from hybrid_calendar.join_info.render import MARKER_KEY, is_processed, plan_invite_update

__all__ = [
    "MARKER_KEY",
    "KeywordConfig",
    "best_join_info",
    "detect",
    "find_candidates",
    "find_keyword",
    "is_processed",
    "keyword_config",
    "plan_invite_update",
]
