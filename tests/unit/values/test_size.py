from __future__ import annotations

import pytest

from authlib_core.errors import InvalidValueError
from authlib_core.values import REMOVE, Int64, document_size, new_id, value_size


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (None, 1),
        (True, 1),
        (False, 1),
        (Int64(-(2**63)), 9),
        (0.5, 9),
        (float("nan"), 9),
        (3, 9),
        ("", 2),
        ("abc", 5),
        ("é", 4),
        ("😀", 6),
        (b"", 2),
        (b"\x00\x01", 4),
        (bytearray(b"abc"), 5),
        (memoryview(b"abcd"), 6),
        ([], 2),
        ([None, 1.0], 12),
        ((None,), 3),
        ({}, 2),
        ({"a": None}, 5),
        ({"ab": {"c": "d"}}, 2 + 2 + 1 + (2 + 1 + 1 + 3)),
    ],
)
def test_formula(value: object, size: int) -> None:
    assert value_size(value) == size  # type: ignore[arg-type]


def test_system_fields_match_the_reference() -> None:
    # Convex's size formula: _id ≈ 38 bytes, _creationTime 23 bytes (field name included).
    assert document_size({"_creationTime": 1699931054642.111}) - 2 == 23
    assert document_size({"_id": new_id("users")}) - 2 == 3 + 1 + 2 + 36  # 42: our ids are 36 characters


@pytest.mark.parametrize("bad", [{1.5}, REMOVE, {"a": object()}, {1: 2}, "\ud800"])
def test_non_values_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidValueError):
        value_size(bad)  # type: ignore[arg-type]


def test_depth_limit() -> None:
    deep: object = None
    for _ in range(100):
        deep = {"a": deep}
    with pytest.raises(InvalidValueError, match="nested more than"):
        document_size(deep)  # type: ignore[arg-type]
