"""The detector gives exactly the results of its frozen pre-optimisation copy.

``reference/`` holds the join detector as it was before the speed work of issue 14. Both
run over the same events and every result must be equal: ``detect`` (with and without
admin dial rules), ``find_candidates`` (every candidate, in order, and the early-stopping
form) and ``best_join_info``; and the current ``detect`` must equal ``best_join_info``
of the current ``find_candidates`` (the engine calls ``detect`` alone when the built-in
plugin is the hook's only implementation). The events are the benchmark's realistic mix
(``bench/parse_join.py``'s ``make_events``, several seeds: 2,000 events each in the
default test run, 20,000 under ``make fuzz``), the held-out
corpus, every invitation of ``invitations.py`` in every form the invitation tests use,
every service example as description, Location and conference link, and texts spliced
from pieces of all of these (deterministic, then Hypothesis).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_calendar.join_info.dial import DialRule, parse_rules
from hybrid_calendar.models import CalendarEvent, Conference, ConferenceEntryPoint
from hybrid_calendar_google.event_json import event_from_google
from tests.bench_events import join_benchmark_events

from .helpers import (
    as_html,
    conference,
    event,
    google_redirect,
    proofpoint_v2,
    proofpoint_v3,
    safelinks,
)
from .invitations import INVITES
from .reference import detect as frozen
from .reference import dial as frozen_dial
from .reference import extract as frozen_extract
from .reference import unwrap as frozen_unwrap
from .service_examples import EXAMPLES
from .test_properties import HOSTILE, PIECES

ROOT = Path(__file__).resolve().parents[2]
SCALE = 10 if os.environ.get("HYBRID_CALENDAR_FUZZ_SECONDS") else 1
"""``make fuzz`` compares ten times as many generated events as the default test run."""
current = importlib.import_module("hybrid_calendar.join_info.detect")
"""The module (the package exports its function ``detect`` under the same name)."""
RULE_LINES = (r"meet\.google\.com/([a-z-]+) => \1@meet.example.com",
              r"zoom\.us/j/(?P<id>\d+) => \g<id>@zoom.example.com")
RULES: tuple[DialRule, ...] = parse_rules(RULE_LINES)
FROZEN_RULES = frozen_dial.parse_rules(RULE_LINES)


def differences(events: Sequence[CalendarEvent], *, with_rules: bool = True) -> list[str]:
    """Every way the current detector's results differ from the frozen copy's."""
    found = []
    for index, item in enumerate(events):
        new_all, old_all = current.find_candidates(item), frozen.find_candidates(item)
        checks = [
            ("detect", current.detect(item), frozen.detect(item)),
            ("candidates", new_all, old_all),
            ("early", current.find_candidates(item, stop_early=True),
             frozen.find_candidates(item, stop_early=True)),
            ("best", current.best_join_info(new_all), frozen.best_join_info(old_all)),
            # the engine calls detect alone when join_info is the hook's only plugin
            ("detect=best", current.detect(item), current.best_join_info(new_all)),
        ]
        if with_rules:
            checks.append(("rules", current.detect(item, RULES),
                           frozen.detect(item, FROZEN_RULES)))
            checks.append(("rules detect=best", current.detect(item, RULES),
                           current.best_join_info(current.find_candidates(item, RULES))))
        for name, new, old in checks:
            if new != old:
                found.append(f"event {index} ({item.id}) {name}: {new!r} != {old!r}")
    return found


@pytest.mark.parametrize("seed", [7, 11, 2026])
def test_benchmark_mix_is_unchanged(seed: int) -> None:
    resources = join_benchmark_events(2_000 * SCALE, seed=seed)
    events = [event_from_google(resource) for resource in resources]
    assert differences(events, with_rules=seed == 7) == []


def test_heldout_corpus_is_unchanged() -> None:
    lines = (ROOT / "tests" / "join_info" / "corpus" / "heldout.jsonl").read_text(
        encoding="utf-8").splitlines()
    events = [event_from_google(json.loads(line)["event"]) for line in lines]
    assert len(events) > 100
    assert differences(events) == []


def _invitation_events() -> Iterator[CalendarEvent]:
    wrappers = (safelinks, proofpoint_v2, proofpoint_v3, google_redirect)
    for invite in INVITES:
        yield event(invite.body, invite.location)
        yield event(invite.location, invite.body)
        yield event("", invite.body)
        url = invite.url if invite.url and invite.url.startswith("http") else None
        if not invite.is_html:
            for mode in ("visible", "hidden", "google"):
                yield event(as_html(invite.body, url, mode), invite.location)
        if url is not None:
            for wrap in wrappers:
                yield event(invite.body.replace(url, wrap(url)),
                            invite.location.replace(url, wrap(url)))
            yield event(invite.body, invite.location, conference(url))


def test_invitations_in_every_form_are_unchanged() -> None:
    events = list(_invitation_events())
    assert len(events) > 300
    assert differences(events) == []


def _example_events() -> Iterator[CalendarEvent]:
    for _, url in EXAMPLES:
        yield event(url)
        yield event("", url)
        yield event(f"Join: <{url}>. Backup: {url}/x old link")
        yield event(as_html("Join here", url, "hidden"))
        yield event("", "", conference(url, solution="hangoutsMeet", pin="123456"))
        yield event("", "", Conference(solution="addOn", name="Acme Video", entry_points=(
            ConferenceEntryPoint(kind="video", uri=url, meeting_code="123 456 789"),
            ConferenceEntryPoint(kind="sip", uri="sip:123456789@acme.webex.com;x=y"))))


def test_service_examples_are_unchanged() -> None:
    events = list(_example_events())
    assert differences(events) == []


def _spliced(rng: random.Random, pieces: Sequence[str]) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))


def test_spliced_texts_are_unchanged() -> None:
    rng = random.Random(14)
    fragments = [piece for invite in INVITES for piece in
                 (invite.body[i:i + rng.randint(5, 120)] for i in range(0, len(invite.body), 60))]
    pieces = PIECES + fragments + [url for _, url in EXAMPLES] + [
        "Meeting number: 2634 123 4567\n", "Video ID: 113 922 123\n", "jdoe@acme.webex.com",
        "8551234567@zoomcrc.com", "Dial 12345@67.217.95.2", "Join by SIP\n", "(note)",
        "<div>", "</div>", "<wbr>", "&lt;", "&gt;", "\u200b", "Passwort: 1234\n", ")", "(",
        "meet.google.com/abc-defg-hij", "help.webex.com/x", "https://aka.ms/x "]
    events = [event(_spliced(rng, pieces), _spliced(rng, pieces) if rng.random() < 0.3 else "")
              for _ in range(1_000 * SCALE)]
    assert differences(events) == []


def test_hostile_bodies_are_unchanged() -> None:
    assert differences([event(body) for body in HOSTILE[::3]], with_rules=False) == []


_text = st.lists(st.sampled_from(PIECES + [url for _, url in EXAMPLES]) | st.text(max_size=5),
                 max_size=40).map("".join)


@settings(max_examples=300, database=None, deadline=None)
@given(description=_text, location=_text)
def test_generated_texts_are_unchanged(description: str, location: str) -> None:
    assert differences([event(description, location)]) == []


current_extract = importlib.import_module("hybrid_calendar.join_info.extract")
current_unwrap = importlib.import_module("hybrid_calendar.join_info.unwrap")
SCHEME_PIECES = ["https://", "HTTPS://", "hTtP://", "xhttps://", "zoommtg://", "ZoomUS://",
                 "discord://", "ftp://", "abchttps://", "httpſ://", "ſhttps://", "1https://",
                 "éhttps://", "<https://a.b/c\nd>", "https://a.b/c\r\nd\n", "://", ":///",
                 "msteams:/l/x", "https://x.com/\"https://y.com", "(https://a.b/(c)).",
                 "&quot;", "&#39;", "&nbsp;", "&amp;lt;", "&amp", "&ampx;", "&#x27;", "&lt",
                 "&AMP;", "<BR>", "<Br/>", "<br.x>", "<p<br>>", "<!-- x -->", "<wbr>", "<ſ>",
                 "<a href='https://a.b/?x=1&amp;y=2'>", "<x-y z=1>", "< b>",
                 "https://" + "a" * 250 + ".com/x", "://" + "b." * 126 + "io/", "a" * 300,
                 ".com/", "://.com/", "https://x.y!meet.google.com/abc", "https://u@h.com/",
                 "https://h.com:443/", "http://a_b.example.org/p"]


def extraction_differences(texts: Sequence[str]) -> list[str]:
    """Where the current extraction functions differ from the frozen copy's, per text
    (every scanner on its own, so a difference a later step hides still shows)."""
    found: list[str] = []
    for index, raw in enumerate(texts):
        new_text, old_text = current_extract.prepare(raw), frozen_extract.prepare(raw)
        checks: list[tuple[str, object, object]] = [
            ("prepare", (new_text.plain, new_text.hrefs), (old_text.plain, old_text.hrefs))]
        for text in (raw, old_text.plain):
            checks.extend((name, getattr(current_extract, name)(text),
                           getattr(frozen_extract, name)(text))
                          for name in ("find_urls", "find_bare_urls", "find_sip_uris",
                                       "find_addresses"))
        urls = [url for _, url in frozen_extract.find_urls(old_text.plain)] + list(
            old_text.hrefs)
        checks.extend(("unwrap", current_unwrap.unwrap(url), frozen_unwrap.unwrap(url))
                      for url in urls)
        found.extend(f"text {index} {name}: {new!r} != {old!r}"
                     for name, new, old in checks if new != old)
    return found


def test_extraction_of_every_corpus_text_is_unchanged() -> None:
    rng = random.Random(15)
    texts = [piece for invite in INVITES for piece in (invite.body, invite.location)]
    texts += [url for _, url in EXAMPLES] + HOSTILE[::3]
    texts += [_spliced(rng, PIECES + SCHEME_PIECES) for _ in range(2_000 * SCALE)]
    texts += [resource.get("description", "") + "\n" + resource.get("location", "")
              for resource in join_benchmark_events(500 * SCALE, seed=3)]
    assert extraction_differences(texts) == []


_scheme_text = st.lists(st.sampled_from(PIECES + SCHEME_PIECES) | st.text(max_size=5),
                        max_size=40).map("".join)


@settings(max_examples=300, database=None, deadline=None)
@given(text=_scheme_text)
def test_extraction_of_generated_texts_is_unchanged(text: str) -> None:
    assert extraction_differences([text]) == []


ENTITY_PIECES = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&nbsp;", "&", "amp;", "lt;",
                 "&#", "&#x", "&AMP;", "&ampx", "&amp;amp;", "x", " ", ";", "é", "\n"]


@settings(max_examples=500, database=None, deadline=None)
@given(text=st.lists(st.sampled_from(ENTITY_PIECES) | st.text(max_size=4), max_size=30)
       .map("".join))
def test_unescape_equals_html_unescape(text: str) -> None:
    import html
    assert current_extract.unescape(text) == html.unescape(text)


SHORTCUT_LINKS = [
    "https://us02web.zoom.us/j/85512345678?pwd=abc", "https://us02web.zoom.us/j/85512345678",
    "https://acme.webex.com/meet/jdoe", "https://acme.webex.com/acme/j.php?MTID=m1234",
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0",
    "https://www.youtube.com/watch?v=abc", "https://meet.google.com/abc-defg-hij",
    "https://bluejeans.com/123456789", "https://meet.goto.com/123456789"]
SHORTCUT_WORDS = [
    "Backup Zoom: ", "Join: ", "Do not use the old link ", "If Teams fails: ", "\n",
    "Meeting ID: 855 1234 5678\n", "Passcode: 482913\n", "Video ID: 113 922 123\n",
    "acme@m.webex.com\n", "Join by SIP: sip:85512345678@zoomcrc.com\n",
    "sip:jdoe@acme.webex.com ", "Dial 26341234567@acme.webex.com\n",
    "Join from a video system: 123456789@bjn.vc\n", "h323:1.2.3.4 ", "8551234567@zoomcrc.com "]


def test_dialled_link_shortcut_matches_every_candidate() -> None:
    """``detect`` gives a source's best link alone when it is a join link with a dial
    string: over texts mixing links that have one and links that have none (a Personal
    Room, a meeting id not printed), backup-marked and weak (YouTube) links, SIP URIs
    and SIP addresses of the same and other providers, in Location and description, it
    equals ``best_join_info`` of every candidate and the frozen copy."""
    rng = random.Random(1414)
    events = []
    for _ in range(3_000 * SCALE):
        parts = [rng.choice(SHORTCUT_WORDS + SHORTCUT_LINKS + [" "] * 3)
                 for _ in range(rng.randint(1, 10))]
        text = " ".join(parts)
        where = rng.random()
        events.append(event(text) if where < 0.6 else event("", text) if where < 0.8
                      else event(" ".join(rng.sample(parts, len(parts))), text))
    assert differences(events) == []
