"""The two JSON wire formats of Convex values, and strict JSON text I/O.

- ``convex_encoded_json`` (alias ``convex_json``) is lossless: int64, bytes and the special floats become
  single-key objects ``{"$integer": ...}``, ``{"$bytes": ...}``, ``{"$float": ...}``.
- ``json`` (alias ``convex_clean_json``) is the lossy, human form: int64 → decimal string, bytes → base64
  string, NaN/±inf → ``"NaN"``/``"Infinity"``/``"-Infinity"``.

Input is always read with the encoded rules (:func:`decode`), whatever format the response uses.

Example:
    >>> from authlib_core.values import Int64, decode, dumps, encode
    >>> dumps(encode({"n": Int64(1), "x": 3.0}, "convex_encoded_json"))
    '{"n":{"$integer":"AQAAAAAAAAA="},"x":3}'
    >>> dumps(encode({"n": Int64(1), "x": 3.0}, "json"))
    '{"n":"1","x":3}'
    >>> decode({"$integer": "AQAAAAAAAAA="})
    Int64(1)
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
from collections.abc import Mapping
from typing import Any, Final, Literal, NoReturn, cast

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
    json_loader,
    key_path,
    lone_surrogate_problem,
    type_name,
)
from authlib_core.values.types import INT64_MAX, INT64_MIN, Int64, JSONValue, Value

__all__ = ["BadFormatError", "Format", "decode", "dumps", "encode", "loads", "parse_format"]

#: A wire format for values in responses.
Format = Literal["json", "convex_encoded_json"]

_FORMAT_ALIASES: Final[Mapping[str, Format]] = {
    "json": "json",
    "convex_clean_json": "json",
    "convex_encoded_json": "convex_encoded_json",
    "convex_json": "convex_encoded_json",
}
_SAFE_INTEGER: Final = 2**53


class BadFormatError(InvalidValueError):
    """The request named a value format Convex does not know (the HTTP layer answers 400 ``BadFormat``).

    Example:
        >>> parse_format("xml", "json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        authlib_core.values.encoding.BadFormatError: Unknown format 'xml'. Use "json" or "convex_encoded_json" ...
    """

    code = "BadFormat"


def parse_format(name: str | None, default: Format) -> Format:
    """The :data:`Format` a request asked for (``None`` means ``default``), accepting Convex's aliases.

    Example:
        >>> parse_format("convex_json", "json"), parse_format(None, "json")
        ('convex_encoded_json', 'json')
    """
    if name is None:
        return default
    try:
        return _FORMAT_ALIASES[name]
    except (KeyError, TypeError):
        raise BadFormatError(
            f'Unknown format {name!r}. Use "json" or "convex_encoded_json" '
            '(aliases: "convex_clean_json", "convex_json").'
        ) from None


def encode(value: Value, fmt: Format) -> JSONValue:
    """``value`` as JSON-ready Python in format ``fmt``; object keys come out sorted.

    Accepts what :func:`~authlib_core.values.to_value` returns (plus tuples and plain ints, read as
    float64) and raises :class:`InvalidValueError`, naming the path, for anything Convex cannot represent.

    Example:
        >>> encode([float("nan"), -0.0, b"\\x00\\x10\\x83"], "convex_encoded_json")
        [{'$float': 'AAAAAAAA+H8='}, {'$float': 'AAAAAAAAAIA='}, {'$bytes': 'ABCD'}]
        >>> encode([float("nan"), -0.0, b"\\x00\\x10\\x83"], "json")
        ['NaN', -0.0, 'ABCD']
    """
    return _encode(value, fmt == "convex_encoded_json", "", 0)


def _encode(value: object, tagged: bool, path: str, depth: int) -> JSONValue:
    cls = type(value)
    # plain dicts and lists first: what documents and results are made of (the same branches as below)
    if cls is dict:
        return _encode_mapping(value, tagged, path, depth)  # type: ignore[arg-type]
    if cls is list:
        return _encode_list(value, tagged, path, depth)  # type: ignore[arg-type]
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        problem = lone_surrogate_problem(value)
        if problem is not None:
            raise InvalidValueError(f"The string {at(path)} {problem}.")
        return value
    if isinstance(value, Int64):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidValueError(f"Int64 {at(path)} is out of range ({int(value)}).")
        if tagged:
            return {"$integer": _b64(struct.pack("<q", value))}
        return str(int(value))
    if isinstance(value, int | float):
        number = int_to_float(value, path) if isinstance(value, int) else float(value)
        return _encode_float(number, tagged)
    if isinstance(value, bytes | bytearray | memoryview):
        text = _b64(bytes(value))
        return {"$bytes": text} if tagged else text
    if isinstance(value, list | tuple):
        return _encode_list(value, tagged, path, depth)
    if isinstance(value, Mapping):
        return _encode_mapping(value, tagged, path, depth)
    raise InvalidValueError(
        f"Cannot encode {type_name(value)} ({describe(value)}) {at(path)}: it is not a Convex value. "
        "Normalise it with to_value() first."
    )


def _encode_list(value: list[Any] | tuple[Any, ...], tagged: bool, path: str, depth: int) -> JSONValue:
    check_depth(depth + 1, path)
    return [_encode(item, tagged, index_path(path, i), depth + 1) for i, item in enumerate(value)]


def _encode_mapping(value: Mapping[Any, Any], tagged: bool, path: str, depth: int) -> JSONValue:
    check_depth(depth + 1, path)
    result: dict[str, JSONValue] = {}
    for key in sorted(_checked_keys(value, path)):
        item = value[key]
        # the commonest leaves, which can never fail, skip building their path
        if type(item) is str and item.isascii():
            result[key] = item
        elif type(item) is float:
            result[key] = _encode_float(item, tagged)
        elif item is None or item is True or item is False:
            result[key] = item
        else:
            result[key] = _encode(item, tagged, key_path(path, key), depth + 1)
    return result


def _checked_keys(obj: Mapping[Any, Any], path: str) -> list[str]:
    keys: list[str] = []
    for key in obj:
        if type(key) is not str or key not in VALID_FIELD_NAMES:  # a name seen valid before needs no check
            check_field_name(key, path)
        keys.append(key)
    return keys


def _encode_float(number: float, tagged: bool) -> JSONValue:
    negative_zero = number == 0.0 and math.copysign(1.0, number) < 0
    if math.isfinite(number) and not negative_zero:
        # Integral doubles are written as JSON integers (``3``, not ``3.0``), as JavaScript does.
        if number.is_integer() and abs(number) <= _SAFE_INTEGER:
            return int(number)
        return number
    if tagged:
        return {"$float": _b64(struct.pack("<d", number))}
    if negative_zero:
        return number
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(obj: JSONValue, path: str = "") -> Value:
    """Read a JSON value with the ``convex_encoded_json`` rules (as Convex reads arguments in every format).

    JSON numbers become ``float`` (``3`` → ``3.0``); ``{"$integer": b64}`` → :class:`Int64`,
    ``{"$bytes": b64}`` → ``bytes``, ``{"$float": b64}`` → NaN/±inf/-0.0 (a finite ``$float`` is an error);
    any other ``$``-prefixed key is rejected. Errors are :class:`InvalidValueError` and name the path.

    Example:
        >>> decode({"a": [3, {"$bytes": "ABCD"}], "b": {"$float": "AAAAAAAAAIA="}})
        {'a': [3.0, b'\\x00\\x10\\x83'], 'b': -0.0}
        >>> decode({"$set": []})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        authlib_core.errors.InvalidValueError: Invalid field name '$set' at the top level: it starts with '$', ...
    """
    return _decode(obj, path, 0)


def _decode(obj: object, path: str, depth: int) -> Value:
    cls = type(obj)
    # objects and arrays first: what JSON documents are made of (the same branches as below)
    if cls is dict:
        return _decode_object(obj, path, depth)  # type: ignore[arg-type]
    if cls is list:
        return _decode_array(obj, path, depth)  # type: ignore[arg-type]
    if obj is None or obj is True or obj is False:
        return obj
    if isinstance(obj, str):
        problem = lone_surrogate_problem(obj)
        if problem is not None:
            raise InvalidValueError(f"The string {at(path)} {problem}.")
        return obj
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, int):
        try:
            return float(obj)  # JSON numbers are doubles; large integers round, as in JavaScript
        except OverflowError:
            raise InvalidValueError(f"The number {at(path)} is too large for a float64.") from None
    if isinstance(obj, list):
        return _decode_array(obj, path, depth)
    if isinstance(obj, dict):
        return _decode_object(obj, path, depth)
    raise InvalidValueError(f"Cannot decode {type_name(obj)} ({describe(obj)}) {at(path)}: it is not JSON.")


def _decode_array(obj: list[Any], path: str, depth: int) -> Value:
    check_depth(depth + 1, path)
    return [_decode(item, index_path(path, i), depth + 1) for i, item in enumerate(obj)]


def _decode_object(obj: dict[Any, Any], path: str, depth: int) -> Value:
    if len(obj) == 1:
        ((key, payload),) = obj.items()
        if key in ("$integer", "$bytes", "$float"):
            return _decode_special(key, payload, path)
    check_depth(depth + 1, path)
    result: dict[str, Value] = {}
    for key in _checked_keys(obj, path):
        item = obj[key]
        # the commonest leaves, which can never fail, skip building their path
        if type(item) in PLAIN_LEAF_TYPES or (type(item) is str and item.isascii()):
            result[key] = item
        else:
            result[key] = _decode(item, key_path(path, key), depth + 1)
    return result


def _decode_special(key: str, payload: object, path: str) -> Value:
    if not isinstance(payload, str):
        _bad_special(key, payload, path, "its value must be a base64 string")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        _bad_special(key, payload, path, "its value is not valid base64")
    if key == "$bytes":
        return data
    if len(data) != 8:
        _bad_special(key, payload, path, f"it must encode exactly 8 bytes, not {len(data)}")
    if key == "$integer":
        return Int64(struct.unpack("<q", data)[0])
    number: float = struct.unpack("<d", data)[0]
    if math.isfinite(number) and not (number == 0.0 and math.copysign(1.0, number) < 0):
        _bad_special(key, payload, path, f"it encodes the finite number {number!r}; send it as a JSON number")
    return number


def _bad_special(key: str, payload: object, path: str, why: str) -> NoReturn:
    raise InvalidValueError(f"Invalid {{{key!r}: {describe(payload)}}} {at(path)}: {why}.")


def loads(text: str | bytes) -> JSONValue:
    """Parse JSON text strictly: ``NaN``/``Infinity`` literals, bad UTF-8 and absurd nesting are errors.

    Duplicate keys are allowed (the last one wins, as in JavaScript).

    Example:
        >>> loads('{"a": [1, 2.5]}')
        {'a': [1, 2.5]}
        >>> loads('[NaN]')  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        authlib_core.errors.InvalidValueError: Invalid JSON: 'NaN' is not valid JSON. Send special floats as ...
    """
    try:
        return cast("JSONValue", _loads(text))
    except json.JSONDecodeError as exc:
        raise InvalidValueError(f"Invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except UnicodeDecodeError as exc:
        raise InvalidValueError(f"Invalid JSON: the body is not valid UTF-8 ({exc.reason}).") from None
    except RecursionError:
        raise InvalidValueError("Invalid JSON: it is nested too deeply.") from None


def _reject_constant(name: str) -> NoReturn:
    raise InvalidValueError(
        f'Invalid JSON: {name!r} is not valid JSON. Send special floats as {{"$float": ...}} (convex_encoded_json).'
    )


_loads = json_loader(_reject_constant)


def dumps(obj: JSONValue) -> str:
    """Compact JSON text (UTF-8 characters kept as they are; NaN/inf refused — :func:`encode` first).

    Example:
        >>> dumps({"a": [1, "é"]})
        '{"a":[1,"é"]}'
    """
    try:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError) as exc:
        raise InvalidValueError(f"Cannot write JSON: {exc}. Pass the value through encode() first.") from None
    except RecursionError:
        raise InvalidValueError("Cannot write JSON: the value is nested too deeply.") from None
