from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authlib_core.errors import InvalidValueError
from authlib_core.values import decode_id, is_id_for, new_id, table_number
from authlib_core.values.ids import (
    _ALPHABET,
    ID_LENGTH,
    _base32,
    _fletcher16,
    _unbase32,
    _vint,
    table_name_for,
)

ID_PATTERN = re.compile(r"[0-9a-hjkmnp-tv-z]{36}\Z")


def make_id(number: int, internal: bytes = bytes(16)) -> str:
    prefix = _vint(number) + internal
    return _base32(prefix + _fletcher16(prefix).to_bytes(2, "little"))


class TestTableNumber:
    def test_is_stable_across_processes(self) -> None:
        # Pinned: the number is part of every stored id, so it must never change.
        digest = hashlib.sha256(b"users").digest()
        expected = 2**21 + int.from_bytes(digest[:8], "big") % (2**28 - 2**21)
        assert table_number("users") == expected

    @given(st.text(min_size=1, alphabet=st.characters(exclude_categories=["Cs"])))
    def test_range_gives_four_byte_vints(self, name: str) -> None:
        number = table_number(name)
        assert 2**21 <= number < 2**28
        assert len(_vint(number)) == 4

    def test_different_names_usually_differ(self) -> None:
        names = [f"table{i}" for i in range(200)] + ["users", "sessions", "_scheduled_functions"]
        assert len({table_number(name) for name in names}) == len(names)

    @pytest.mark.parametrize("bad", ["", "\ud800", None])
    def test_invalid_names(self, bad: object) -> None:
        with pytest.raises(InvalidValueError, match=r"[Tt]able name"):
            table_number(bad)  # type: ignore[arg-type]


class TestNewId:
    def test_shape(self) -> None:
        doc_id = new_id("users")
        assert len(doc_id) == ID_LENGTH == 36
        assert ID_PATTERN.match(doc_id)

    def test_round_trip_and_table_check(self) -> None:
        for table in ("users", "myData", "a", "x" * 64):
            doc_id = new_id(table)
            assert decode_id(doc_id) == table_number(table)
            assert is_id_for(table, doc_id)
            assert not is_id_for("other", doc_id)

    def test_ids_are_random(self) -> None:
        assert len({new_id("users") for _ in range(1000)}) == 1000

    def test_table_name_for(self) -> None:
        doc_id = new_id("posts")
        assert table_name_for(doc_id, ["users", "posts"]) == "posts"
        assert table_name_for(doc_id, ["users"]) is None
        assert table_name_for("nope", ["posts"]) is None


class TestDecodeId:
    def test_every_single_character_change_is_detected(self) -> None:
        doc_id = new_id("users")
        for index, original in enumerate(doc_id):
            for replacement in _ALPHABET:
                if replacement != original:
                    tampered = doc_id[:index] + replacement + doc_id[index + 1 :]
                    assert decode_id(tampered) is None, (index, replacement)

    @given(st.integers(0, 35), st.sampled_from(_ALPHABET), st.binary(min_size=16, max_size=16))
    def test_random_tampering(self, index: int, replacement: str, internal: bytes) -> None:
        doc_id = make_id(table_number("users"), internal)
        tampered = doc_id[:index] + replacement + doc_id[index + 1 :]
        assert (decode_id(tampered) is None) == (tampered != doc_id)

    @pytest.mark.parametrize("char", ["i", "l", "o", "u", "A", "Z", "-", "=", " ", "é"])
    def test_foreign_alphabet(self, char: str) -> None:
        doc_id = new_id("users")
        assert decode_id(char + doc_id[1:]) is None
        assert decode_id(doc_id[:-1] + char) is None

    def test_uppercase_is_rejected(self) -> None:
        doc_id = new_id("users")
        assert doc_id.upper() != doc_id
        assert decode_id(doc_id.upper()) is None

    def test_wrong_lengths(self) -> None:
        doc_id = new_id("users")
        assert decode_id(doc_id[:-1]) is None
        assert decode_id(doc_id + "0") is None
        assert decode_id("") is None
        assert decode_id("0" * 100) is None

    @pytest.mark.parametrize("bad", [None, 42, b"abc", ["x"]])
    def test_non_strings(self, bad: object) -> None:
        assert decode_id(bad) is None
        assert not is_id_for("users", bad)

    def test_convex_style_small_table_numbers_decode(self) -> None:
        # Convex's own ids (catalog numbers 1..16383) are well-formed too: 31 and 32 characters.
        assert len(make_id(1)) == 31
        assert decode_id(make_id(1)) == 1
        assert len(make_id(10007)) == 32
        assert decode_id(make_id(10007)) == 10007
        assert decode_id(make_id(2**32 - 1)) == 2**32 - 1

    def test_table_zero_and_non_minimal_vints_are_rejected(self) -> None:
        internal = bytes(range(16))
        prefix = b"\x00" + internal
        assert decode_id(_base32(prefix + _fletcher16(prefix).to_bytes(2, "little"))) is None
        prefix = b"\x81\x00" + internal  # 1, encoded in two bytes
        assert decode_id(_base32(prefix + _fletcher16(prefix).to_bytes(2, "little"))) is None

    def test_vint_beyond_u32_is_rejected(self) -> None:
        prefix = b"\xff\xff\xff\xff\x7f" + bytes(16)
        assert decode_id(_base32(prefix + _fletcher16(prefix).to_bytes(2, "little"))) is None

    def test_non_canonical_padding_bits_are_rejected(self) -> None:
        doc_id = new_id("users")
        last = _ALPHABET.index(doc_id[-1])
        assert last & 0b1111 == 0  # 176 bits in 36 characters: 4 padding bits
        for bit in range(4):
            assert decode_id(doc_id[:-1] + _ALPHABET[last | (1 << bit)]) is None

    def test_base32_round_trip(self) -> None:
        for size in range(12):
            data = bytes(range(200, 200 + size))
            assert _unbase32(_base32(data)) == data
