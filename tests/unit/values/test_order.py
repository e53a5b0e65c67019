from __future__ import annotations

import functools
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authlib_core.errors import InvalidValueError
from authlib_core.values import (
    REMOVE,
    UNDEFINED,
    Int64,
    Undefined,
    Value,
    compare,
    index_key,
    prefix_successor,
    sort_key,
)
from tests.unit.values.strategies import NEG_NAN, float_from_bits, values

# Strictly ascending in Convex's order.
ASCENDING: list[Value | Undefined] = [
    UNDEFINED,
    None,
    Int64(-(2**63)),
    Int64(-(2**63) + 1),
    Int64(-(2**32)),
    Int64(-(2**32) + 1),
    Int64(-65536),
    Int64(-65535),
    Int64(-256),
    Int64(-255),
    Int64(-1),
    Int64(0),
    Int64(1),
    Int64(255),
    Int64(256),
    Int64(65535),
    Int64(65536),
    Int64(2**32 - 1),
    Int64(2**32),
    Int64(2**63 - 1),
    NEG_NAN,
    -math.inf,
    -1e308,
    -1.0,
    -5e-324,
    -0.0,
    0.0,
    5e-324,
    1.0,
    2.0**63,
    math.inf,
    math.nan,
    float_from_bits(0x7FFF_FFFF_FFFF_FFFF),
    False,
    True,
    "",
    "\x00",
    "\x00\x00",
    "\x00\x01",
    "\x01",
    "\x01\x00",
    "\x02",
    "A",
    "a",
    "a\x00",
    "a\x01",
    "ab",
    "é",
    "\uffff",
    "😀",
    b"",
    b"\x00",
    b"\x00\x00",
    b"\x00\xff",
    b"\x01",
    b"\x01\x02",
    b"\x02",
    b"\xff",
    b"\xff\xff",
    [],
    [None],
    [None, None],
    [Int64(0)],
    [0.0],
    [0.0, None],
    [""],
    ["", ""],
    ["\x00"],
    [[]],
    [[None]],
    [{}],
    {},
    {"": None},
    {"a": None},
    {"a": None, "b": None},
    {"a": Int64(1)},
    {"a": 1.0},
    {"a": []},
    {"a\x00": None},
    {"b": None},
]


def sign(number: int) -> int:
    return (number > 0) - (number < 0)


class TestKnownOrder:
    def test_neighbours_ascend(self) -> None:
        for low, high in itertools.pairwise(ASCENDING):
            assert compare(low, high) == -1, (low, high)
            assert compare(high, low) == 1, (low, high)
            assert sort_key(low) < sort_key(high), (low, high)

    def test_all_pairs_agree(self) -> None:
        keys = [sort_key(value) for value in ASCENDING]
        for (i, a), (j, b) in itertools.product(enumerate(ASCENDING), repeat=2):
            assert compare(a, b) == sign(i - j)
            assert sign((keys[i] > keys[j]) - (keys[i] < keys[j])) == sign(i - j)

    def test_all_keys_are_prefix_free(self) -> None:
        keys = [sort_key(value) for value in ASCENDING]
        for a, b in itertools.permutations(keys, 2):
            assert not b.startswith(a), (a, b)

    def test_ints_sort_before_all_floats(self) -> None:
        assert compare(Int64(5), 1.0) == -1
        assert compare(Int64(2**63 - 1), -math.inf) == -1
        assert compare(Int64(3), 3.0) == -1

    def test_plain_int_is_a_float64(self) -> None:
        assert compare(3, 3.0) == 0
        assert sort_key(3) == sort_key(3.0)
        with pytest.raises(InvalidValueError, match="Int64"):
            sort_key(2**53 + 1)

    def test_equal_values(self) -> None:
        assert compare(math.nan, math.nan) == 0
        assert compare({"b": 1.0, "a": [b"x"]}, {"a": [b"x"], "b": 1.0}) == 0
        assert sort_key({"b": 1.0, "a": 2.0}) == sort_key({"a": 2.0, "b": 1.0})
        assert compare((1.0, "x"), [1.0, "x"]) == 0  # type: ignore[arg-type]
        assert compare(UNDEFINED, UNDEFINED) == 0
        assert compare(bytearray(b"a"), b"a") == 0  # type: ignore[arg-type]

    def test_strings_compare_by_utf8_not_utf16(self) -> None:
        # In UTF-16 (JavaScript's default) U+1F600 would sort before U+FFFF.
        assert compare("\uffff", "😀") == -1
        assert sort_key("\uffff") < sort_key("😀")


class TestSortKeyEncoding:
    @pytest.mark.parametrize(
        ("value", "key"),
        [
            (UNDEFINED, b"\x01"),
            (None, b"\x03"),
            (Int64(0), b"\x08"),
            (Int64(1), b"\x09\x01"),
            (Int64(256), b"\x0a\x01\x00"),
            (Int64(65536), b"\x0b\x00\x01\x00\x00"),
            (Int64(2**63 - 1), b"\x0c\x7f\xff\xff\xff\xff\xff\xff\xff"),
            (Int64(-1), b"\x07\xfe"),
            (Int64(-255), b"\x07\x00"),
            (Int64(-256), b"\x06\xfe\xff"),
            (Int64(-(2**63)), b"\x04\x7f\xff\xff\xff\xff\xff\xff\xff"),
            (0.0, b"\x0d\x80\x00\x00\x00\x00\x00\x00\x00"),
            (-0.0, b"\x0d\x7f\xff\xff\xff\xff\xff\xff\xff"),
            (1.0, b"\x0d\xbf\xf0\x00\x00\x00\x00\x00\x00"),
            (False, b"\x0e"),
            (True, b"\x0f"),
            ("", b"\x10\x00"),
            ("a\x00\x01", b"\x10a\x01\x01\x01\x02\x00"),
            (b"\x00\xff", b"\x11\x01\x01\xff\x00"),
            ([], b"\x12\x00"),
            ([None, [""]], b"\x12\x03\x12\x10\x00\x00\x00"),
            ({}, b"\x15\x00"),
            ({"b": None, "a": True}, b"\x15\x10a\x00\x0f\x10b\x00\x03\x00"),
        ],
    )
    def test_exact_bytes(self, value: Value | Undefined, key: bytes) -> None:
        assert sort_key(value) == key

    def test_no_key_starts_with_zero(self) -> None:
        for value in ASCENDING:
            assert sort_key(value)[0] >= 0x01

    @pytest.mark.parametrize(
        ("value", "fragment"),
        [
            ([UNDEFINED], "cannot contain UNDEFINED"),
            (REMOVE, "not a Convex value"),
            ({1, 2}, "not a Convex value"),
            ({"a": object()}, "at .a"),
            ({1: None}, "not str"),
            ("\ud800", "lone surrogate"),
            (int.__new__(Int64, 2**64), "out of range"),
        ],
    )
    def test_invalid(self, value: object, fragment: str) -> None:
        with pytest.raises(InvalidValueError) as info:
            sort_key(value)  # type: ignore[arg-type]
        assert fragment in str(info.value)

    def test_compare_rejects_non_values(self) -> None:
        with pytest.raises(InvalidValueError, match="not a Convex value"):
            compare(REMOVE, None)  # type: ignore[arg-type]

    def test_depth_limit(self) -> None:
        deep: object = None
        for _ in range(100):
            deep = [deep]
        with pytest.raises(InvalidValueError, match="nested more than"):
            sort_key(deep)  # type: ignore[arg-type]
        with pytest.raises(InvalidValueError, match="nested more than"):
            compare(deep, deep)  # type: ignore[arg-type]


class TestProperties:
    @given(values, values)
    def test_sort_key_agrees_with_compare(self, a: Value, b: Value) -> None:
        key_a, key_b = sort_key(a), sort_key(b)
        assert compare(a, b) == sign((key_a > key_b) - (key_a < key_b))
        assert (compare(a, b) == 0) == (key_a == key_b)

    @given(values, values)
    def test_antisymmetry(self, a: Value, b: Value) -> None:
        assert compare(a, b) == -compare(b, a)
        assert compare(a, a) == 0

    @given(values, values, values)
    def test_transitivity(self, a: Value, b: Value, c: Value) -> None:
        if compare(a, b) <= 0 and compare(b, c) <= 0:
            assert compare(a, c) <= 0

    @given(values, values)
    def test_prefix_free(self, a: Value, b: Value) -> None:
        key_a, key_b = sort_key(a), sort_key(b)
        if key_a != key_b:
            assert not key_b.startswith(key_a)
            assert not key_a.startswith(key_b)

    @settings(max_examples=50)
    @given(st.lists(values, max_size=12))
    def test_sorting_by_compare_equals_sorting_by_key(self, items: list[Value]) -> None:
        by_compare = sorted(items, key=functools.cmp_to_key(compare))
        assert [sort_key(item) for item in by_compare] == sorted(sort_key(item) for item in items)

    @given(values, values, values, values)
    def test_index_key_is_lexicographic(self, a1: Value, a2: Value, b1: Value, b2: Value) -> None:
        expected = compare(a1, b1) or compare(a2, b2)
        key_a, key_b = index_key([a1, a2]), index_key([b1, b2])
        assert expected == sign((key_a > key_b) - (key_a < key_b))

    @given(values, values, values)
    def test_prefix_range_selects_exactly_equal_first_fields(self, first: Value, second: Value, probe: Value) -> None:
        prefix = index_key([probe])
        key = index_key([first, second])
        inside = prefix <= key < prefix_successor(prefix)
        assert inside == (compare(first, probe) == 0)

    @given(values, values, values)
    def test_range_bounds_recipe(self, eq: Value, bound: Value, candidate: Value) -> None:
        prefix = index_key([eq])
        key = index_key([eq, candidate, UNDEFINED])
        gte_start = prefix + sort_key(bound)
        gt_start = prefix_successor(prefix + sort_key(bound))
        order = compare(candidate, bound)
        assert (key >= gte_start) == (order >= 0)
        assert (key >= gt_start) == (order > 0)
        assert (key < gte_start) == (order < 0)  # "lt" end
        assert (key < gt_start) == (order <= 0)  # "lte" end


class TestIndexKey:
    def test_concatenates_sort_keys(self) -> None:
        assert index_key([]) == b""
        assert index_key(["a", UNDEFINED, Int64(1)]) == b"\x10a\x00" + b"\x01" + b"\x09\x01"

    def test_undefined_sorts_first_within_a_field(self) -> None:
        assert index_key([UNDEFINED, "z"]) < index_key([None, ""])


class TestPrefixSuccessor:
    @pytest.mark.parametrize(
        ("prefix", "successor"),
        [
            (b"\x00", b"\x01"),
            (b"\x10a\x00", b"\x10a\x01"),
            (b"\x12\xff", b"\x13"),
            (b"\x01\xfe\xff\xff", b"\x01\xff"),
        ],
    )
    def test_examples(self, prefix: bytes, successor: bytes) -> None:
        assert prefix_successor(prefix) == successor

    @pytest.mark.parametrize("prefix", [b"", b"\xff", b"\xff\xff\xff"])
    def test_no_successor(self, prefix: bytes) -> None:
        with pytest.raises(ValueError, match="no successor"):
            prefix_successor(prefix)

    @given(st.binary(min_size=1).filter(lambda b: b.strip(b"\xff") != b""), st.binary())
    def test_is_the_smallest_upper_bound(self, prefix: bytes, suffix: bytes) -> None:
        successor = prefix_successor(prefix)
        assert prefix + suffix < successor
        assert not successor.startswith(prefix)
