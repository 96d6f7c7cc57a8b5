"""Unwrapping of SafeLinks, Google redirects, Proofpoint v2/v3 and other mail filters."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_calendar.join_info.unwrap import (
    HINT_WORDS,
    MAX_DEPTH,
    names_wrapper,
    unwrap,
    unwrap_once,
)

from .helpers import google_redirect, proofpoint_v2, proofpoint_v3, safelinks

TARGET = "https://us02web.zoom.us/j/85512345678?pwd=ZXhh-bXBs_ZQ.1&uname=J%20D"


@pytest.mark.parametrize("wrap", [safelinks, google_redirect, proofpoint_v2, proofpoint_v3])
def test_each_wrapper(wrap: Callable[[str], str]) -> None:
    wrapped = wrap(TARGET)
    assert wrapped != TARGET
    assert unwrap(wrapped) == TARGET


def test_proofpoint_v3_published_example() -> None:
    wrapped = ("https://urldefense.com/v3/__https://google.com:443/search?q=a*test&gs=ps__;Kw!!"
               "-612Flbf0JvQ3kNJkRi5Jg!Ue6tQudNKaShHg93trcdjqDP8se2ySE65jyCIe2K1D_uNjZ1Lnf6YLQERu"
               "jngZv9UWf66ujQIQ$")
    assert unwrap(wrapped) == "https://google.com:443/search?q=a+test&gs=ps"


def test_proofpoint_v3_run_of_characters() -> None:
    # "**A" stands for a run of two replaced characters ("?=" here).
    wrapped = "https://urldefense.com/v3/__https://x.example/a**Ab__;Pz0!!abc$"
    assert unwrap(wrapped) == "https://x.example/a?=b"


def test_nested_wrappers_are_peeled() -> None:
    assert unwrap(safelinks(google_redirect(proofpoint_v2(TARGET)))) == TARGET


def test_depth_is_bounded() -> None:
    wrapped = TARGET
    for _ in range(MAX_DEPTH + 3):
        wrapped = google_redirect(wrapped)
    result = unwrap(wrapped)
    assert result != TARGET and result.startswith("https://www.google.com/url?q=")


@pytest.mark.parametrize("url", [
    "https://www.google.com/search?q=https://zoom.us/j/1",
    "https://www.google.com/url?q=javascript:alert(1)",
    "https://example.com/?url=https://zoom.us/j/1",
    "https://urldefense.com/v3/__https://x.example/a*b__;!!!abc$",
    "https://urldefense.proofpoint.com/v2/url?d=abc",
    "https://eur01.safelinks.protection.outlook.com/?data=abc",
])
def test_not_unwrapped(url: str) -> None:
    assert unwrap(url) == url


def test_other_gateways() -> None:
    assert unwrap("https://linkprotect.cudasvc.com/url?a=https%3a%2f%2fzoom.us%2fj%2f1&c=E,1") \
        == "https://zoom.us/j/1"
    assert unwrap("https://secure-web.cisco.com/1AbC/https%3A%2F%2Fzoom.us%2Fj%2F1") \
        == "https://zoom.us/j/1"
    assert unwrap_once("https://zoom.us/j/1") is None


_ANY_HINT = re.compile("|".join(re.escape(word) for word in HINT_WORDS))


@settings(max_examples=500, database=None, deadline=None)
@given(st.lists(st.sampled_from([*HINT_WORDS, *(w[:-1] for w in HINT_WORDS),
                                 *(w[1:] for w in HINT_WORDS), "https://", ".", "-", "x"])
                | st.text(max_size=4), max_size=12).map("".join))
def test_names_wrapper_is_the_hint_alternation(text: str) -> None:
    """The substring tests find exactly what one regex alternation of the words finds."""
    assert names_wrapper(text) == (_ANY_HINT.search(text) is not None)


def test_names_wrapper_knows_every_word() -> None:
    for word in HINT_WORDS:
        assert names_wrapper(f"https://x.{word}/y")
        assert not names_wrapper(f"https://x.{word[:-1]}/y")
