"""Scalar validators: ``v.string()``, ``v.float64()``, ``v.int64()``, ``v.boolean()``, ``v.null()``,
``v.bytes()``, ``v.any()``, ``v.id(table)`` and ``v.literal(x)``.

Normalisation follows the package's number convention: ``v.float64()`` turns a plain ``int`` into
``float``; ``v.int64()`` turns a plain ``int`` into :class:`~authlib_core.values.Int64`; neither accepts
``bool``.

Example:
    >>> from authlib_core.values import v
    >>> v.float64().validate(2), v.int64().validate(2)
    (2.0, Int64(2))
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

from authlib_core.errors import InvalidValueError, SchemaDefinitionError
from authlib_core.values._common import describe, exact_float, lone_surrogate_problem, type_name
from authlib_core.values.convert import to_value
from authlib_core.values.encoding import encode
from authlib_core.values.ids import decode_id, is_id_for
from authlib_core.values.types import INT64_MAX, INT64_MIN, Int64
from authlib_core.values.validator import Validator, quote

if TYPE_CHECKING:
    from authlib_core.values.types import JSONValue, Value

__all__ = ["LiteralValue", "VAny", "VBoolean", "VBytes", "VFloat64", "VId", "VInt64", "VLiteral", "VNull", "VString"]

#: What ``v.literal`` accepts (a plain ``int`` is stored as the float64 it stands for).
LiteralValue: TypeAlias = str | bool | float | Int64


def _valid_string(value: object, path: str) -> str | None:
    """``value`` as a plain ``str`` if it is one; raise if it is not valid Unicode."""
    if not isinstance(value, str):
        return None
    problem = lone_surrogate_problem(value)
    if problem is not None:
        raise InvalidValueError(f"The string at {path or 'the top level'} {problem}.")
    return value if type(value) is str else str.__str__(value)


@dataclass(frozen=True, slots=True, repr=False)
class VString(Validator):
    """``v.string()``: a ``str`` (valid Unicode).

    Example:
        >>> v.string().validate("hi"), v.string().to_json()
        ('hi', {'type': 'string'})
    """

    kind: Literal["string"] = field(default="string", init=False)

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "string"}

    def validate(self, value: object, path: str = "") -> Value:
        text = _valid_string(value, path)
        if text is None:
            raise self._mismatch(value, path)
        return text

    def __repr__(self) -> str:
        return "v.string()"


@dataclass(frozen=True, slots=True, repr=False)
class VFloat64(Validator):
    """``v.float64()`` / ``v.number()``: a float64. Accepts ``float`` and exactly representable ``int``.

    Example:
        >>> v.number().validate(3), v.number().to_json()
        (3.0, {'type': 'number'})
    """

    kind: Literal["float64"] = field(default="float64", init=False)

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "number"}

    def validate(self, value: object, path: str = "") -> Value:
        if isinstance(value, float):
            return float(value)
        if isinstance(value, int) and not isinstance(value, bool | Int64):
            converted = exact_float(value)
            if converted is None:
                raise self._mismatch(
                    value, path, f"The int {value} cannot be represented exactly as a float64; use Int64 and v.int64()."
                )
            return converted
        raise self._mismatch(value, path)

    def __repr__(self) -> str:
        return "v.float64()"


@dataclass(frozen=True, slots=True, repr=False)
class VInt64(Validator):
    """``v.int64()`` / ``v.bigint()``: an :class:`Int64`, or a plain ``int`` in range (converted).

    Example:
        >>> v.int64().validate(5), v.int64().to_json()
        (Int64(5), {'type': 'bigint'})
    """

    kind: Literal["int64"] = field(default="int64", init=False)

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "bigint"}

    def validate(self, value: object, path: str = "") -> Value:
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                raise self._mismatch(value, path, "Integer is out of the int64 range -2^63..2^63-1.")
            return value if isinstance(value, Int64) else Int64(value)
        raise self._mismatch(value, path)

    def __repr__(self) -> str:
        return "v.int64()"


@dataclass(frozen=True, slots=True, repr=False)
class VBoolean(Validator):
    """``v.boolean()``: ``True`` or ``False``.

    Example:
        >>> v.boolean().validate(False)
        False
    """

    kind: Literal["boolean"] = field(default="boolean", init=False)

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "boolean"}

    def validate(self, value: object, path: str = "") -> Value:
        if value is True or value is False:
            return value
        raise self._mismatch(value, path)

    def __repr__(self) -> str:
        return "v.boolean()"


@dataclass(frozen=True, slots=True, repr=False)
class VNull(Validator):
    """``v.null()``: ``None``.

    Example:
        >>> v.null().validate(None) is None
        True
    """

    kind: Literal["null"] = field(default="null", init=False)

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "null"}

    def validate(self, value: object, path: str = "") -> Value:
        if value is None:
            return None
        raise self._mismatch(value, path)

    def __repr__(self) -> str:
        return "v.null()"


@dataclass(frozen=True, slots=True, repr=False)
class VBytes(Validator):
    """``v.bytes()``: ``bytes`` (``bytearray`` and ``memoryview`` are converted).

    Example:
        >>> v.bytes().validate(bytearray(b"ab"))
        b'ab'
    """

    kind: Literal["bytes"] = field(default="bytes", init=False)

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "bytes"}

    def validate(self, value: object, path: str = "") -> Value:
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        raise self._mismatch(value, path)

    def __repr__(self) -> str:
        return "v.bytes()"


@dataclass(frozen=True, slots=True, repr=False)
class VAny(Validator):
    """``v.any()``: any Convex value, normalised with :func:`~authlib_core.values.to_value`.

    Example:
        >>> v.any().validate({"n": 1})
        {'n': 1.0}
    """

    kind: Literal["any"] = field(default="any", init=False)

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "any"}

    def validate(self, value: object, path: str = "") -> Value:
        return to_value(value, path)

    def __repr__(self) -> str:
        return "v.any()"


@dataclass(frozen=True, slots=True, repr=False)
class VId(Validator):
    """``v.id(table)``: a string that is a well-formed id of a document in ``table``.

    Example:
        >>> from authlib_core.values import new_id
        >>> user_id = new_id("users")
        >>> v.id("users").validate(user_id) == user_id, v.id("users").to_json()
        (True, {'type': 'id', 'tableName': 'users'})
    """

    table: str
    kind: Literal["id"] = field(default="id", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.table, str) or not self.table:
            raise SchemaDefinitionError(f"v.id() needs a table name (a non-empty string), not {self.table!r}.")

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "id", "tableName": self.table}

    def validate(self, value: object, path: str = "") -> Value:
        if not isinstance(value, str):
            raise self._mismatch(value, path)
        if not is_id_for(self.table, value):
            if decode_id(value) is None:
                reason = f"Value is not a valid document id (expected an id of table {self.table!r})."
            else:
                reason = f"Value is an id of another table, not of table {self.table!r}."
            raise self._mismatch(value, path, reason)
        return value if type(value) is str else str.__str__(value)

    def __repr__(self) -> str:
        return f"v.id({quote(self.table)})"


@dataclass(frozen=True, slots=True, repr=False)
class VLiteral(Validator):
    """``v.literal(x)``: exactly ``x``, type included (``3.0`` ≠ ``Int64(3)``, ``True`` ≠ ``1.0``).

    A plain ``int`` literal is the float64 it stands for: ``v.literal(3)`` is ``v.literal(3.0)``.

    Example:
        >>> v.literal("admin").validate("admin"), v.literal(Int64(3)).to_json()
        ('admin', {'type': 'literal', 'value': {'$integer': 'AwAAAAAAAAA='}})
    """

    value: LiteralValue
    kind: Literal["literal"] = field(default="literal", init=False)

    def __post_init__(self) -> None:
        literal: object = self.value
        if isinstance(literal, bool | Int64):
            return
        if isinstance(literal, str):
            if lone_surrogate_problem(literal) is not None:
                raise SchemaDefinitionError(f"v.literal({literal!r}): the string is not valid Unicode.")
            return
        if isinstance(literal, int):
            converted = exact_float(literal)
            if converted is None:
                raise SchemaDefinitionError(
                    f"v.literal({literal}): the int is not exactly representable as a float64; "
                    f"use v.literal(Int64({literal})) for an int64 literal."
                )
            object.__setattr__(self, "value", converted)
            return
        if isinstance(literal, float):
            object.__setattr__(self, "value", float(literal))
            return
        hint = " Use v.null() for null." if literal is None else ""
        raise SchemaDefinitionError(
            f"v.literal() takes a str, bool, float, int or Int64, not {type_name(literal)} ({describe(literal)}).{hint}"
        )

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "literal", "value": encode(self.value, "convex_encoded_json")}

    def validate(self, value: object, path: str = "") -> Value:
        literal = self.value
        if isinstance(literal, bool):
            matches = value is literal
        elif isinstance(literal, Int64):
            matches = isinstance(value, int) and not isinstance(value, bool) and int(value) == int(literal)
        elif isinstance(literal, float):
            matches = (
                isinstance(value, int | float) and not isinstance(value, bool | Int64) and _same_float(literal, value)
            )
        else:
            matches = isinstance(value, str) and value == literal
        if not matches:
            raise self._mismatch(value, path)
        return literal

    def __repr__(self) -> str:
        return f"v.literal({_render_literal(self.value)})"


def _render_literal(value: LiteralValue) -> str:
    if isinstance(value, bool | Int64):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if math.isnan(value):
        return 'float("-nan")' if math.copysign(1.0, value) < 0 else 'float("nan")'
    if math.isinf(value):
        return 'float("inf")' if value > 0 else 'float("-inf")'
    return repr(value)


def _same_float(a: float, b: int | float) -> bool:
    try:
        other = float(b)
    except OverflowError:
        return False
    if isinstance(b, int) and other != b:
        return False
    return struct.pack("<d", a) == struct.pack("<d", other)
