"""Webex markdown: the plain ``text`` and ``html`` Webex derives, and mentions.

developer.webex.com/docs/basics ("Formatting messages"): bold, italics, inline code, links,
autolinks ``<https://...>``, line breaks, and mentions ``<@personId:ID|Name>`` /
``<@personEmail:EMAIL>`` (rendered as ``<spark-mention>``).
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid_calendar_webex_emulator.state import WebexState

MENTION = re.compile(r"<@(personId|personEmail):([^|>]+)(?:\|([^>]*))?>")
"""A mention in markdown: ``<@personId:ID|Name>`` or ``<@personEmail:EMAIL>``."""


def render_markdown(markdown: str) -> tuple[str, str]:
    """``(plain text, html)`` of Webex markdown (mentions, bold, italics, code, links,
    line breaks)."""
    mentions: list[tuple[str, str]] = []

    def mention(found: re.Match[str]) -> str:
        mentions.append((found.group(2), found.group(3) or found.group(2)))
        return f"\x00{len(mentions) - 1}\x00"

    markdown = MENTION.sub(mention, markdown)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", markdown)
    text = re.sub(r"<(https?://[^\s>]+)>", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", text)
    escaped = html.escape(markdown, quote=False)
    rendered = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2" rel="nofollow">\1</a>',
                      escaped)
    rendered = re.sub(r"&lt;(https?://[^\s&]+)&gt;", r'<a href="\1" rel="nofollow">\1</a>',
                      rendered)
    rendered = re.sub(r"(\*\*|__)(.+?)\1", r"<strong>\2</strong>", rendered)
    rendered = re.sub(r"(\*|_)(.+?)\1", r"<em>\2</em>", rendered)
    rendered = re.sub(r"`(.+?)`", r"<code>\1</code>", rendered)
    for index, (target, name) in enumerate(mentions):
        text = text.replace(f"\x00{index}\x00", name)
        rendered = rendered.replace(
            f"\x00{index}\x00", '<spark-mention data-object-type="person" '
            f'data-object-id="{html.escape(target)}">{html.escape(name)}</spark-mention>')
    return text, "<p>" + rendered.replace("\n", "<br/>") + "</p>"


def mentions(state: WebexState, markdown: str) -> list[str]:
    """Person ids mentioned with ``<@personId:ID|name>`` or ``<@personEmail:EMAIL>``."""
    found: list[str] = []
    for kind, value, _name in MENTION.findall(markdown):
        person = (state.people.get(value) if kind == "personId"
                  else state.person_by_email(value))
        if person is not None and person["id"] not in found:
            found.append(person["id"])
    return found
