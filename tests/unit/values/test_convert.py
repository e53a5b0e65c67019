from __future__ import annotations

import dataclasses
import datetime
import math
from collections import OrderedDict
from types import MappingProxyType

import pytest
from hypothesis import given

from authlib_core.errors import InvalidValueError
from authlib_core.values import REMOVE, UNDEFINED, Int64, sort_key, to_value
from authlib_core.values._common import MAX_DEPTH
from tests.unit.values.strategies import values


def test_scalars() -> None:
    assert to_value(None) is None
    assert to_value(True) is True
    assert to_value(False) is False
    assert to_value("héllo 😀") == "héllo 😀"
    assert to_value(b"\x00") == b"\x00"


def test_bool_stays_bool_and_int64_stays_int64() -> None:
    assert type(to_value(True)) is bool
    result = to_value(Int64(3))
    assert type(result) is Int64
    assert result == 3


def test_plain_int_becomes_float() -> None:
    result = to_value(3)
    assert type(result) is float
    assert result == 3.0
    assert to_value(2**53) == 2.0**53
    assert to_value(-(2**60)) == -(2.0**60)  # a power of two is exact


@pytest.mark.parametrize("number", [2**53 + 1, -(2**53) - 1, 10**400])
def test_inexact_int_is_rejected_with_a_hint(number: int) -> None:
    with pytest.raises(InvalidValueError, match="Int64") as info:
        to_value({"n": number})
    assert "at .n" in str(info.value)


def test_special_floats_are_allowed() -> None:
    assert math.isnan(to_value(math.nan))  # type: ignore[arg-type]
    assert to_value(math.inf) == math.inf
    negative_zero = to_value(-0.0)
    assert isinstance(negative_zero, float)
    assert math.copysign(1.0, negative_zero) < 0


def test_subclasses_are_normalised_to_builtins() -> None:
    class Name(str):
        pass

    class Ratio(float):
        pass

    assert type(to_value(Name("x"))) is str
    assert type(to_value(Ratio(0.5))) is float


def test_bytes_like_and_sequences() -> None:
    assert to_value(bytearray(b"ab")) == b"ab"
    assert to_value(memoryview(b"cd")) == b"cd"
    assert to_value((1, (2, "x"))) == [1.0, [2.0, "x"]]


def test_mappings() -> None:
    assert to_value(OrderedDict(a=1)) == {"a": 1.0}
    assert to_value(MappingProxyType({"b": [True]})) == {"b": [True]}
    assert to_value({"": 1, "a b": 2, "_id": "x"}) == {"": 1.0, "a b": 2.0, "_id": "x"}


@pytest.mark.parametrize(
    ("obj", "path", "fragment"),
    [
        ({"items": [0, 1, 2, {"when": datetime.datetime(2024, 1, 1)}]}, ".items[3].when", "datetime.datetime"),
        ({"s": {1, 2}}, ".s", "Convert it to a list"),
        ([frozenset()], "[0]", "a set"),
        ({"x": REMOVE}, ".x", "ctx.db.patch"),
        ({"x": UNDEFINED}, ".x", "Unsupported"),
        ({"x": object()}, ".x", "builtins"),
        ({"x": 1j}, ".x", "complex"),
    ],
)
def test_unsupported_values_name_path_and_type(obj: object, path: str, fragment: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        to_value(obj)
    message = str(info.value)
    assert f"at {path}" in message
    assert fragment in message or fragment == "builtins"


def test_dataclass_hint() -> None:
    @dataclasses.dataclass
    class Point:
        x: float

    with pytest.raises(InvalidValueError, match=r"dataclasses\.asdict"):
        to_value(Point(1.0))


def test_model_dump_hint() -> None:
    class Model:
        def model_dump(self) -> dict[str, object]:
            return {}

    with pytest.raises(InvalidValueError, match="model_dump"):
        to_value(Model())


def test_remove_at_the_top_level() -> None:
    with pytest.raises(InvalidValueError, match="at the top level"):
        to_value(REMOVE)


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("$id", "starts with '$'"),
        ("a" * 1025, "1025 characters"),
        ("tab\there", "printable ASCII"),
        ("é", "printable ASCII"),
        ("\x7f", "printable ASCII"),
    ],
)
def test_invalid_field_names(key: str, fragment: str) -> None:
    with pytest.raises(InvalidValueError, match="Invalid field name") as info:
        to_value({"outer": {key: 1}})
    assert fragment in str(info.value)
    assert "at .outer" in str(info.value)


def test_longest_allowed_key() -> None:
    assert to_value({"k" * 1024: None}) == {"k" * 1024: None}


def test_non_string_keys_are_rejected() -> None:
    with pytest.raises(InvalidValueError, match="Object key 1 at the top level is a int"):
        to_value({1: "a"})


def test_lone_surrogates_are_rejected() -> None:
    with pytest.raises(InvalidValueError, match=r"at \.s.*lone surrogate"):
        to_value({"s": "ok\ud800"})


def test_int64_forged_out_of_range_is_rejected() -> None:
    forged = int.__new__(Int64, 2**64)
    with pytest.raises(InvalidValueError, match="out of range"):
        to_value(forged)


def test_depth_limit_gives_a_clear_error() -> None:
    deep: object = None
    for _ in range(MAX_DEPTH):
        deep = [deep]
    assert to_value(deep) is not None
    with pytest.raises(InvalidValueError, match="nested more than 64 levels"):
        to_value([deep])


def test_cycles_are_caught() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(InvalidValueError, match="contains itself"):
        to_value(cycle)


@given(values)
def test_canonical_values_are_fixed_points(value: object) -> None:
    assert sort_key(to_value(value)) == sort_key(value)  # type: ignore[arg-type]


class _LooksLikeAKey:
    """A non-str key equal to (and hashing as) a field name already seen valid."""

    def __hash__(self) -> int:
        return hash("text")

    def __eq__(self, other: object) -> bool:
        return other == "text"


def test_a_remembered_field_name_does_not_admit_a_key_that_only_equals_it() -> None:
    from authlib_core.values import decode, encode

    assert to_value({"text": "a"}) == {"text": "a"}  # "text" is now a remembered valid name
    for check in (to_value, lambda v: encode(v, "json"), decode):
        with pytest.raises(InvalidValueError, match=r"is a tests\.unit\.values\.test_convert\._LooksLikeAKey"):
            check({_LooksLikeAKey(): "a"})


def test_dict_and_list_subclasses_take_the_same_branches_as_plain_ones() -> None:
    from authlib_core.values import encode

    class Doc(dict):  # type: ignore[type-arg]
        pass

    class Items(list):  # type: ignore[type-arg]
        pass

    value = Doc(b=Items([1, Doc(a=2)]), a="x")
    plain = {"b": [1, {"a": 2}], "a": "x"}
    assert to_value(value) == to_value(plain) == {"a": "x", "b": [1.0, {"a": 2.0}]}
    assert type(to_value(value)) is dict
    assert encode(value, "json") == encode(plain, "json")
    with pytest.raises(InvalidValueError, match=r"Invalid field name '\$x' at \.b\[1\]"):
        to_value(Doc(b=Items([1, Doc({"$x": 1})])))
