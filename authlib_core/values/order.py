"""Convex's total order of values, and byte strings that sort the same way.

The order across types is ``undefined < null < int64 < float64 < boolean < string < bytes < array <
object``. Int64 and float64 are different types (``Int64(5) < 1.0``); floats follow the IEEE 754 total
order (``-NaN < -inf < ... < -0.0 < 0.0 < ... < inf < NaN``); strings compare by UTF-8 bytes; arrays
element by element (a prefix first); objects as their sequences of ``(key, value)`` pairs sorted by key.

:func:`sort_key` encodes a value so that comparing the bytes (unsigned, lexicographic — what SQLite
``BLOB`` and DynamoDB ``B`` keys do) is comparing the values, and :func:`index_key` concatenates the keys
of an index's fields. The encoding, one tag byte then a body:

==========  ===============================================================================
tag         body
==========  ===============================================================================
``0x01``    undefined (a missing field); no body
``0x03``    null; no body
``0x04``    int64 in [-2^63, -2^32]: 8 bytes big-endian of ``n + 2^64 - 1``
``0x05``    int64 in [-(2^32-1), -2^16]: 4 bytes of ``n + 2^32 - 1``
``0x06``    int64 in [-(2^16-1), -2^8]: 2 bytes of ``n + 2^16 - 1``
``0x07``    int64 in [-255, -1]: 1 byte of ``n + 255``
``0x08``    int64 zero; no body
``0x09``    int64 in [1, 255]: 1 byte (then ``0x0A`` 2 bytes, ``0x0B`` 4 bytes, ``0x0C`` 8 bytes)
``0x0D``    float64: 8 bytes big-endian of the IEEE bits, all flipped if negative, else sign bit set
``0x0E``    false
``0x0F``    true
``0x10``    string: UTF-8, escaped, then ``0x00``
``0x11``    bytes: escaped, then ``0x00``
``0x12``    array: the elements' sort keys, then ``0x00``
``0x15``    object: for each key in sorted order, ``sort_key(key)`` then ``sort_key(value)``; then ``0x00``
==========  ===============================================================================

Escaping: ``0x00`` → ``0x01 0x01`` and ``0x01`` → ``0x01 0x02``; every other byte stands for itself.
So an escaped body never contains ``0x00``, the terminator is unambiguous and **no key is a proper prefix
of another** — which is what makes index prefix ranges exact: the index entries whose first fields
equal ``(a, b)`` are exactly the keys in ``[index_key([a, b]), prefix_successor(index_key([a, b])))``.
(Convex's own ``0x00 0xFF`` escaping orders the same way but lets ``"a"``'s key prefix ``"a\\x00"``'s.)

All tags are ``>= 0x01``, so a storage engine may use keys starting with ``0x00`` for its own items.
Range bounds for an index whose first fields are fixed to ``prefix = index_key(eq_values)``:
``gte x`` → start ``prefix + sort_key(x)``; ``gt x`` → start ``prefix_successor(prefix + sort_key(x))``;
``lt x`` → end ``prefix + sort_key(x)``; ``lte x`` → end ``prefix_successor(prefix + sort_key(x))``
(ends exclusive).

Example:
    >>> from authlib_core.values import UNDEFINED, Int64, compare, sort_key
    >>> compare(Int64(5), 1.0), compare(UNDEFINED, None), compare([1.0], [1.0, 0.0])
    (-1, -1, -1)
    >>> sort_key(Int64(5)) < sort_key(1.0)
    True
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Mapping, Sequence
from typing import Final, Literal, TypeAlias

from authlib_core.errors import InvalidValueError
from authlib_core.values._common import (
    at,
    check_depth,
    describe,
    index_path,
    int_to_float,
    key_path,
    lone_surrogate_problem,
    type_name,
)
from authlib_core.values.types import INT64_MAX, INT64_MIN, Int64, Value

__all__ = ["UNDEFINED", "Undefined", "compare", "index_key", "prefix_successor", "sort_key"]


class _Undefined(enum.Enum):
    """Type of :data:`UNDEFINED`; there is exactly one instance."""

    UNDEFINED = "UNDEFINED"

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __convex_display__(self) -> str:
        """How messages show it: ``"undefined"``, as Convex prints ``undefined``."""
        return '"undefined"'


#: A missing field (Convex's ``undefined``), which sorts before every value. Not a value itself.
UNDEFINED: Final = _Undefined.UNDEFINED
#: The type of :data:`UNDEFINED`.
Undefined: TypeAlias = Literal[_Undefined.UNDEFINED]

_UNDEFINED, _NULL, _INT64, _FLOAT64, _BOOLEAN, _STRING, _BYTES, _ARRAY, _OBJECT = range(9)

_TAG_UNDEFINED: Final = 0x01
_TAG_NULL: Final = 0x03
_TAG_INT_ZERO: Final = 0x08
_TAG_FLOAT: Final = 0x0D
_TAG_FALSE: Final = 0x0E
_TAG_TRUE: Final = 0x0F
_TAG_STRING: Final = 0x10
_TAG_BYTES: Final = 0x11
_TAG_ARRAY: Final = 0x12
_TAG_OBJECT: Final = 0x15
_END: Final = b"\x00"
_POSITIVE_INTS: Final = ((1, 0x09), (2, 0x0A), (4, 0x0B), (8, 0x0C))
_NEGATIVE_INTS: Final = ((1, 0x07), (2, 0x06), (4, 0x05), (8, 0x04))
_SIGN: Final = 1 << 63


def compare(a: Value | Undefined, b: Value | Undefined) -> int:
    """-1, 0 or 1 as ``a`` sorts before, with, or after ``b`` in Convex's total order.

    A plain ``int`` counts as the float64 it stands for (as everywhere in this package).

    Example:
        >>> compare(-0.0, 0.0), compare(float("nan"), float("inf")), compare("é", "z")
        (-1, 1, 1)
        >>> compare({"a": 1.0}, {"a": 1.0, "b": None}), compare(True, "")
        (-1, -1)
    """
    return _compare(a, b, "", 0)


def _compare(a: object, b: object, path: str, depth: int) -> int:
    rank_a, rank_b = _rank(a, path), _rank(b, path)
    if rank_a != rank_b:
        return -1 if rank_a < rank_b else 1
    if rank_a in (_UNDEFINED, _NULL):
        return 0
    if rank_a == _FLOAT64:
        return _sign(_float_order(_as_float(a, path)) - _float_order(_as_float(b, path)))
    if rank_a == _ARRAY:
        check_depth(depth + 1, path)
        assert isinstance(a, list | tuple)
        assert isinstance(b, list | tuple)
        for index, (item_a, item_b) in enumerate(zip(a, b, strict=False)):
            result = _compare(item_a, item_b, index_path(path, index), depth + 1)
            if result:
                return result
        return _sign(len(a) - len(b))
    if rank_a == _OBJECT:
        check_depth(depth + 1, path)
        assert isinstance(a, Mapping)
        assert isinstance(b, Mapping)
        keys_a, keys_b = sorted(_keys(a, path)), sorted(_keys(b, path))
        for key_a, key_b in zip(keys_a, keys_b, strict=False):
            if key_a != key_b:
                return _cmp(_utf8(key_a, path), _utf8(key_b, path))
            result = _compare(a[key_a], b[key_b], key_path(path, key_a), depth + 1)
            if result:
                return result
        return _sign(len(keys_a) - len(keys_b))
    if rank_a == _STRING:
        assert isinstance(a, str)
        assert isinstance(b, str)
        return _cmp(_utf8(a, path), _utf8(b, path))
    if rank_a == _BYTES:
        assert isinstance(a, bytes | bytearray | memoryview)
        assert isinstance(b, bytes | bytearray | memoryview)
        return _cmp(bytes(a), bytes(b))
    assert isinstance(a, int)
    assert isinstance(b, int)  # int64 or boolean
    return _sign(int(a) - int(b))


def sort_key(value: Value | Undefined) -> bytes:
    """Bytes that sort (unsigned, lexicographically) exactly as ``value`` does among Convex values.

    Equal values have equal keys, and no key is a proper prefix of another (see the module docs for
    the encoding).

    Example:
        >>> sort_key(None), sort_key(Int64(-1)), sort_key("a\\x00")
        (b'\\x03', b'\\x07\\xfe', b'\\x10a\\x01\\x01\\x00')
        >>> sort_key([1.0]) < sort_key([1.0, None]) < sort_key([2.0])
        True
    """
    out = bytearray()
    _write(out, value, "", 0)
    return bytes(out)


def index_key(values: Sequence[Value | Undefined]) -> bytes:
    """The key of an index entry: the :func:`sort_key` of each indexed field, concatenated.

    Example:
        >>> index_key(["a", UNDEFINED]) == sort_key("a") + sort_key(UNDEFINED)
        True
    """
    out = bytearray()
    for value in values:
        _write(out, value, "", 0)
    return bytes(out)


def prefix_successor(prefix: bytes) -> bytes:
    """The smallest byte string greater than every string that starts with ``prefix``.

    Use it as the exclusive end of a prefix scan. Raises ``ValueError`` for ``b""`` or all-``0xFF``
    (no such string exists; keys made here never look like that).

    Example:
        >>> prefix_successor(b"\\x10a\\x00"), prefix_successor(b"\\x12\\xff\\xff")
        (b'\\x10a\\x01', b'\\x13')
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        raise ValueError(f"{prefix!r} has no successor: it is empty or all 0xFF bytes.")
    return stripped[:-1] + bytes([stripped[-1] + 1])


def _write(out: bytearray, value: object, path: str, depth: int) -> None:
    rank = _rank(value, path)
    if rank == _UNDEFINED:
        out.append(_TAG_UNDEFINED)
    elif rank == _NULL:
        out.append(_TAG_NULL)
    elif rank == _BOOLEAN:
        out.append(_TAG_TRUE if value else _TAG_FALSE)
    elif rank == _INT64:
        assert isinstance(value, int)
        _write_int64(out, int(value))
    elif rank == _FLOAT64:
        out.append(_TAG_FLOAT)
        out += (_float_order(_as_float(value, path)) + _SIGN).to_bytes(8, "big")
    elif rank == _STRING:
        assert isinstance(value, str)
        out.append(_TAG_STRING)
        out += _escape(_utf8(value, path))
    elif rank == _BYTES:
        assert isinstance(value, bytes | bytearray | memoryview)
        out.append(_TAG_BYTES)
        out += _escape(bytes(value))
    elif rank == _ARRAY:
        check_depth(depth + 1, path)
        assert isinstance(value, list | tuple)
        out.append(_TAG_ARRAY)
        for index, item in enumerate(value):
            if item is UNDEFINED:
                raise InvalidValueError(f"An array cannot contain UNDEFINED ({at(index_path(path, index))}).")
            _write(out, item, index_path(path, index), depth + 1)
        out += _END
    else:
        check_depth(depth + 1, path)
        assert isinstance(value, Mapping)
        out.append(_TAG_OBJECT)
        for key in sorted(_keys(value, path)):
            out.append(_TAG_STRING)
            out += _escape(_utf8(key, path))
            _write(out, value[key], key_path(path, key), depth + 1)
        out += _END


def _write_int64(out: bytearray, number: int) -> None:
    if number == 0:
        out.append(_TAG_INT_ZERO)
        return
    sizes = _POSITIVE_INTS if number > 0 else _NEGATIVE_INTS
    for size, tag in sizes:
        limit = 1 << (8 * size)
        if abs(number) < limit:
            out.append(tag)
            out += (number if number > 0 else number + limit - 1).to_bytes(size, "big")
            return
    raise AssertionError(f"int64 out of range: {number}")  # pragma: no cover - _rank checks the range


def _escape(data: bytes) -> bytes:
    return data.replace(b"\x01", b"\x01\x02").replace(b"\x00", b"\x01\x01") + _END


def _rank(value: object, path: str) -> int:
    if value is None:
        return _NULL
    if value is True or value is False:
        return _BOOLEAN
    if isinstance(value, Int64):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidValueError(f"Int64 {at(path)} is out of range ({int(value)}).")
        return _INT64
    if isinstance(value, int | float):
        return _FLOAT64
    if isinstance(value, str):
        return _STRING
    if isinstance(value, bytes | bytearray | memoryview):
        return _BYTES
    if isinstance(value, list | tuple):
        return _ARRAY
    if isinstance(value, Mapping):
        return _OBJECT
    if value is UNDEFINED:
        return _UNDEFINED
    raise InvalidValueError(
        f"Cannot order {type_name(value)} ({describe(value)}) {at(path)}: it is not a Convex value."
    )


def _as_float(value: object, path: str) -> float:
    if isinstance(value, float):
        return value
    assert isinstance(value, int)
    return int_to_float(value, path)


def _float_order(number: float) -> int:
    """A signed integer whose order is the IEEE 754 total order of ``number``."""
    bits: int = struct.unpack(">q", struct.pack(">d", number))[0]
    return bits ^ 0x7FFF_FFFF_FFFF_FFFF if bits < 0 else bits


def _utf8(text: str, path: str) -> bytes:
    problem = lone_surrogate_problem(text)
    if problem is not None:
        raise InvalidValueError(f"The string {at(path)} {problem}.")
    return text.encode("utf-8")


def _keys(obj: Mapping[object, object], path: str) -> list[str]:
    keys: list[str] = []
    for key in obj:
        if not isinstance(key, str):
            raise InvalidValueError(f"Object key {key!r} {at(path)} is a {type_name(key)}, not str.")
        keys.append(key)
    return keys


def _cmp(a: bytes, b: bytes) -> int:
    return (a > b) - (a < b)


def _sign(number: int) -> int:
    return (number > 0) - (number < 0)
