"""Cursor sealing: round trips, tamper detection, binding to the query fingerprint."""

from __future__ import annotations

import pytest

from authlib_core.database.cursors import CursorCodec
from authlib_core.errors import InvalidCursorError


def test_round_trip_position_and_end() -> None:
    codec = CursorCodec(b"k")
    assert codec.open(codec.seal(b"fp", b"\x10abc\x00"), b"fp") == b"\x10abc\x00"
    assert codec.open(codec.seal(b"fp", b""), b"fp") == b""
    assert codec.open(codec.seal(b"fp", None), b"fp") is None


def test_cursors_are_url_safe_and_randomised() -> None:
    codec = CursorCodec(b"k")
    a, b = codec.seal(b"fp", b"pos"), codec.seal(b"fp", b"pos")
    assert a != b  # a fresh nonce each time
    assert set(a) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_position_is_not_visible_in_the_cursor() -> None:
    import base64

    cursor = CursorCodec(b"k").seal(b"fp", b"plain-index-value" * 3)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert b"plain-index-value" not in raw


def test_every_single_byte_change_is_rejected() -> None:
    codec = CursorCodec(b"k")
    cursor = codec.seal(b"fp", b"position")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i in range(len(cursor)):
        replacement = alphabet[(alphabet.index(cursor[i]) + 1) % len(alphabet)]
        forged = cursor[:i] + replacement + cursor[i + 1 :]
        try:
            opened = codec.open(forged, b"fp")
        except InvalidCursorError:
            continue
        # the last base64 character may carry padding bits only
        assert opened == b"position"
        assert i == len(cursor) - 1


@pytest.mark.parametrize("bad", ["", "!!!", "a", "AAAA", "x" * 300])
def test_malformed_cursors_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidCursorError):
        CursorCodec(b"k").open(bad, b"fp")


def test_other_query_or_other_secret_is_rejected() -> None:
    cursor = CursorCodec(b"k").seal(b"fp", b"pos")
    with pytest.raises(InvalidCursorError, match="different query"):
        CursorCodec(b"k").open(cursor, b"other")
    with pytest.raises(InvalidCursorError):
        CursorCodec(b"another secret").open(cursor, b"fp")


def test_non_string_cursor_is_rejected() -> None:
    with pytest.raises(InvalidCursorError, match="expected a cursor string"):
        CursorCodec(b"k").open(123, b"fp")  # type: ignore[arg-type]
