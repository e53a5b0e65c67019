"""Turn whatever Python user code produced into a canonical Convex :data:`~authlib_core.values.types.Value`.

Example:
    >>> from authlib_core.values import Int64, to_value
    >>> to_value({"n": 3, "big": Int64(3), "tags": ("a", "b"), "raw": bytearray(b"x")})
    {'n': 3.0, 'big': Int64(3), 'tags': ['a', 'b'], 'raw': b'x'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authlib_core.errors import InvalidValueError
from authlib_core.values._common import (
    PLAIN_LEAF_TYPES,
    VALID_FIELD_NAMES,
    at,
    check_depth,
    check_field_name,
    describe,
    index_path,
    int_to_float,
    key_path,
    lone_surrogate_problem,
    type_name,
)
from authlib_core.values.types import INT64_MAX, INT64_MIN, REMOVE, Int64, Value

__all__ = ["to_value"]

_SUPPORTED = "None, bool, int/float (float64), Int64, str, bytes, list/tuple and dict with str keys"


def to_value(obj: object, path: str = "") -> Value:
    """Normalise ``obj`` into a canonical Convex value, or raise :class:`InvalidValueError` naming the path.

    - ``bool`` stays ``bool`` and :class:`Int64` stays ``Int64``;
    - a plain ``int`` becomes ``float`` (it is a float64), if a double holds it exactly;
    - ``float`` stays (NaN, ±inf and -0.0 included); ``str`` must be valid Unicode;
    - ``bytes``/``bytearray``/``memoryview`` become ``bytes``; ``list``/``tuple`` become ``list``;
    - a ``dict`` (any mapping) needs ``str`` keys that Convex accepts (no leading ``$``, printable
      ASCII, at most 1024 characters).

    Anything else (sets, datetimes, your own classes, :data:`REMOVE`) is rejected.

    Example:
        >>> to_value([1, 2.5, True, None])
        [1.0, 2.5, True, None]
        >>> to_value({"when": {1, 2}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        authlib_core.errors.InvalidValueError: Unsupported value at .when: a set ({1, 2}). Convert it to a list ...
    """
    return _convert(obj, path, 0)


def _convert(obj: object, path: str, depth: int) -> Value:
    cls = type(obj)
    # plain dicts and lists first: what documents and results are made of (the same branches as below)
    if cls is dict:
        return _convert_mapping(obj, path, depth)  # type: ignore[arg-type]
    if cls is list:
        return _convert_list(obj, path, depth)  # type: ignore[arg-type]
    if obj is None or obj is True or obj is False:
        return obj
    if isinstance(obj, float):
        return obj if cls is float else float(obj)
    if isinstance(obj, str):
        problem = lone_surrogate_problem(obj)
        if problem is not None:
            raise InvalidValueError(f"The string {at(path)} {problem}.")
        return obj if cls is str else str.__str__(obj)
    if isinstance(obj, Int64):
        if not INT64_MIN <= obj <= INT64_MAX:
            raise InvalidValueError(f"Int64 {at(path)} is out of range ({int(obj)}).")
        return obj
    if isinstance(obj, int):
        return int_to_float(obj, path)
    if isinstance(obj, bytes | bytearray | memoryview):
        return bytes(obj)
    if isinstance(obj, list | tuple):
        return _convert_list(obj, path, depth)
    if isinstance(obj, Mapping):
        return _convert_mapping(obj, path, depth)
    raise InvalidValueError(_unsupported_message(obj, path))


def _convert_list(obj: list[Any] | tuple[Any, ...], path: str, depth: int) -> Value:
    check_depth(depth + 1, path)
    return [_convert(item, index_path(path, i), depth + 1) for i, item in enumerate(obj)]


def _convert_mapping(obj: Mapping[Any, Any], path: str, depth: int) -> Value:
    check_depth(depth + 1, path)
    result: dict[str, Value] = {}
    for key, item in obj.items():
        if type(key) is not str or key not in VALID_FIELD_NAMES:  # a name seen valid before needs no check
            check_field_name(key, path)
        # the commonest leaves, which can never fail, skip building their path
        if type(item) in PLAIN_LEAF_TYPES or (type(item) is str and item.isascii()):
            result[key] = item
        else:
            result[key] = _convert(item, key_path(path, key), depth + 1)
    return result


def _unsupported_message(obj: object, path: str) -> str:
    where = at(path)
    if obj is REMOVE:
        return (
            f"REMOVE is not a value ({where}). It is only meaningful as a field value in "
            "ctx.db.patch(id, {'field': REMOVE}), where it deletes the field."
        )
    if isinstance(obj, set | frozenset):
        return f"Unsupported value {where}: a set ({describe(obj)}). Convert it to a list (Convex has no set type)."
    hint = "Convert it first"
    name = type_name(obj)
    if name.startswith("datetime."):
        hint = "Store a float of epoch milliseconds (like _creationTime) or an ISO-8601 string instead"
    elif hasattr(obj, "model_dump"):
        hint = "Call .model_dump() on it first"
    elif hasattr(obj, "__dataclass_fields__"):
        hint = "Convert it with dataclasses.asdict() first"
    return f"Unsupported value {where}: {name} ({describe(obj)}). Convex values are {_SUPPORTED}. {hint}."
