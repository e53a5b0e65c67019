from __future__ import annotations

import copy
import pickle

import pytest

from authlib_core.errors import InvalidValueError
from authlib_core.values import REMOVE, Int64
from authlib_core.values.types import INT64_MAX, INT64_MIN, _Remove


class TestInt64:
    def test_is_an_int_with_its_own_repr(self) -> None:
        n = Int64(5)
        assert isinstance(n, int)
        assert n == 5
        assert repr(n) == "Int64(5)"
        assert repr(Int64(-7)) == "Int64(-7)"
        assert str(n) == "5"
        assert f"{n}" == "5"
        assert f"{n:>3}" == "  5"

    def test_range_is_inclusive(self) -> None:
        assert Int64(INT64_MIN) == -(2**63)
        assert Int64(INT64_MAX) == 2**63 - 1

    @pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 10**30])
    def test_out_of_range_is_rejected(self, number: int) -> None:
        with pytest.raises(InvalidValueError, match="out of range"):
            Int64(number)

    @pytest.mark.parametrize("bad", [True, 3.0, None, b"5"])
    def test_only_ints_and_decimal_strings(self, bad: object) -> None:
        with pytest.raises(InvalidValueError, match="Int64\\(\\) takes an int"):
            Int64(bad)  # type: ignore[arg-type]

    def test_decimal_string_and_copy_of_int64(self) -> None:
        assert Int64("-12") == -12
        assert type(Int64(Int64(3))) is Int64
        assert Int64() == 0

    def test_arithmetic_returns_plain_int(self) -> None:
        assert type(Int64(2) + 1) is int

    def test_pickle_and_copy_keep_the_type(self) -> None:
        n = Int64(-(2**63))
        for clone in (pickle.loads(pickle.dumps(n)), copy.copy(n), copy.deepcopy(n)):
            assert type(clone) is Int64
            assert clone == n


class TestRemove:
    def test_is_a_singleton_with_a_short_repr(self) -> None:
        assert repr(REMOVE) == "REMOVE"
        assert _Remove("REMOVE") is REMOVE
        assert pickle.loads(pickle.dumps(REMOVE)) is REMOVE
        assert copy.deepcopy(REMOVE) is REMOVE
