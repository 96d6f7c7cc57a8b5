"""Token and associated-data encodings."""

from __future__ import annotations

import base64
import warnings
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_calendar.crypto.formats import (
    encode_parts,
    field_aad,
    owner_id,
    parse_token,
    wrap_context,
)
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


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.text(max_size=20), st.text(max_size=60), st.text(max_size=20))
def test_field_aad_is_the_head_and_the_canonical_parts(head: bytes, table: str, row_id: str,
                                                       column: str) -> None:
    """The fast field_aad (names' encodings kept) gives the bytes of its definition: a
    token sealed before it opens after it and the reverse."""
    try:
        expected = head + encode_parts(table, row_id, column)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            field_aad(head, table, row_id, column)
        return
    assert field_aad(head, table, row_id, column) == expected


def test_the_token_encoder_is_the_standard_librarys_base64url() -> None:
    """Tokens' bodies come from pybase64's encoder: the text the standard library's
    ``urlsafe_b64encode`` gives, unpadded, for every length (all three paddings) and
    bytes (the two URL-safe characters included)."""
    import base64
    import random

    from hybrid_calendar.crypto import formats

    assert formats._urlsafe_b64encode is not base64.urlsafe_b64encode  # the fast one runs
    rng = random.Random(14)
    samples = [bytes(range(256)), b"\xfb\xff\xfe" * 50, b""]
    samples += [rng.randbytes(n) for n in range(0, 3000, 7)]
    for data in samples:
        expected = base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
        assert formats.b64e(data) == expected
        assert formats.b64d(expected) == data


@settings(max_examples=500)
@given(st.binary(max_size=4000))
def test_the_token_encoder_matches_on_arbitrary_bytes(data: bytes) -> None:
    import base64

    from hybrid_calendar.crypto.formats import b64e

    assert b64e(data) == base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_BASE64ISH = st.text(alphabet=st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= .!é"), max_size=200)


def _outcome(decode: Callable[[str], bytes], text: str) -> bytes | type[ValueError]:
    try:
        return decode(text)
    except ValueError as err:  # binascii.Error is one
        return type(err)


@settings(max_examples=1000)
@given(st.one_of(_BASE64ISH, st.text(max_size=60), st.binary(max_size=300).map(
    lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii"))))
def test_the_token_decoder_is_the_standard_librarys(text: str) -> None:
    """Tokens' bodies are decoded by pybase64 when they are plain base64url: for every
    text, ``b64d`` gives the standard library's bytes or the same kind of error
    (``parse_token`` turns both into a DecryptionError)."""
    from hybrid_calendar.crypto import formats

    assert formats._strict_b64decode is not None  # the fast decoder is there
    with warnings.catch_warnings():  # the standard library warns of '+' and '/'
        warnings.simplefilter("ignore", FutureWarning)
        expected = _outcome(lambda t: base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)), text)
        assert _outcome(formats.b64d, text) == expected
