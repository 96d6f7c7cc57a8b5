"""Token and associated-data encodings."""

from __future__ import annotations

import pytest

from hybrid_calendar.crypto.formats import encode_parts, owner_id, parse_token, wrap_context
from hybrid_calendar.errors import DecryptionError


def test_encoding_is_unambiguous() -> None:
    assert encode_parts("ab", "c") != encode_parts("a", "bc")
    assert encode_parts("a.b") != encode_parts("a", "b")
    assert encode_parts(12) == encode_parts("12")


def test_wrap_context_binds_every_part() -> None:
    base = wrap_context("o", "u", "data", "k", 1)
    assert len({base, wrap_context("o2", "u", "data", "k", 1),
                wrap_context("o", "u2", "data", "k", 1),
                wrap_context("o", "u", "index", "k", 1),
                wrap_context("o", "u", "data", "k2", 1),
                wrap_context("o", "u", "data", "k", 2)}) == 6


def test_owner_id() -> None:
    assert owner_id(None) == ""
    assert owner_id("u1") == "u1"
    with pytest.raises(ValueError):
        owner_id("")


@pytest.mark.parametrize("token", ["", "plain text", "v2.k.1.AAAA", "v1.k.x.AAAA",
                                   "v1.k.1.!!!!", "v1.k.1.AAAA", "v1.k.1"])
def test_malformed_tokens_are_refused_without_echo(token: str) -> None:
    with pytest.raises(DecryptionError) as info:
        parse_token(token)
    if token:
        assert token not in str(info.value)
