"""The size of values and documents in bytes, by Convex's formula.

null and booleans count 1 byte; int64 and float64 9; a string or bytes 2 + its length (UTF-8 bytes for a
string); an array 2 + the sizes of its elements; an object 2 + for each field ``len(key) + 1 + size``.
The limits built on these numbers (1 MiB per document, 16 MiB per transaction) are enforced by the
database layer.

Example:
    >>> from authlib_core.values import Int64, document_size, value_size
    >>> value_size(None), value_size(Int64(1)), value_size("héllo"), value_size([1.0, True])
    (1, 9, 8, 12)
    >>> document_size({"a": "xy"})
    8
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from authlib_core.errors import InvalidValueError
from authlib_core.values._common import (
    at,
    check_depth,
    describe,
    index_path,
    key_path,
    lone_surrogate_problem,
    type_name,
)

if TYPE_CHECKING:
    from authlib_core.values.types import Value

__all__ = ["document_size", "value_size"]


def value_size(value: Value) -> int:
    """Convex's size of ``value`` in bytes.

    Example:
        >>> value_size({"ab": 1.0})
        14
    """
    return _size(value, "", 0)


def document_size(document: Mapping[str, Value]) -> int:
    """The size of a document (an object): 2 + Σ ``len(field) + 1 + value_size(value)``.

    Pass the document as stored, system fields (``_id``, ``_creationTime``) included.

    Example:
        >>> document_size({})
        2
    """
    return _size(document, "", 0)


def _size(value: object, path: str, depth: int) -> int:
    if value is None or value is True or value is False:
        return 1
    if isinstance(value, int | float):
        return 9
    if isinstance(value, str):
        if value.isascii():
            return 2 + len(value)
        problem = lone_surrogate_problem(value)
        if problem is not None:
            raise InvalidValueError(f"The string {at(path)} {problem}.")
        return 2 + len(value.encode("utf-8"))
    if isinstance(value, bytes | bytearray):
        return 2 + len(value)
    if isinstance(value, memoryview):
        return 2 + value.nbytes
    if isinstance(value, list | tuple):
        check_depth(depth + 1, path)
        return 2 + sum(_size(item, index_path(path, i), depth + 1) for i, item in enumerate(value))
    if isinstance(value, Mapping):
        check_depth(depth + 1, path)
        total = 2
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidValueError(f"Object key {key!r} {at(path)} is a {type_name(key)}, not str.")
            total += len(key.encode("utf-8")) + 1 + _size(item, key_path(path, key), depth + 1)
        return total
    raise InvalidValueError(f"Cannot size {type_name(value)} ({describe(value)}) {at(path)}: it is not a Convex value.")
