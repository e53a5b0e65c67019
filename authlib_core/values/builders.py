"""The ``v`` namespace: Convex's validator builders, in Python.

Example:
    >>> from authlib_core.values import v
    >>> message = v.object({"author": v.id("users"), "body": v.string(), "likes": v.optional(v.int64())})
    >>> message
    v.object({"author": v.id("users"), "body": v.string(), "likes": v.optional(v.int64())})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, final

from authlib_core.errors import SchemaDefinitionError
from authlib_core.values._common import describe, type_name
from authlib_core.values.validators import (
    LiteralValue,
    Validator,
    VAny,
    VArray,
    VBoolean,
    VBytes,
    VFloat64,
    VId,
    VInt64,
    VLiteral,
    VNull,
    VObject,
    VOptional,
    VRecord,
    VString,
    VUnion,
)

__all__ = ["as_object_validator", "v"]


@final
class _ValidatorBuilders:
    """The type of :data:`v`. Every method returns a new, immutable validator.

    Example:
        >>> v.array(v.nullable(v.float64())).validate([1, None])
        [1.0, None]
    """

    __slots__ = ()

    @staticmethod
    def string() -> VString:
        """A ``str`` (valid Unicode).

        Example:
            >>> v.string().validate("hi")
            'hi'
        """
        return VString()

    @staticmethod
    def number() -> VFloat64:
        """A float64; the same validator as :meth:`float64` (Convex's ``v.number()``).

        Example:
            >>> v.number().validate(3)
            3.0
        """
        return VFloat64()

    @staticmethod
    def float64() -> VFloat64:
        """A float64: a ``float``, or an ``int`` that a double holds exactly (converted to ``float``).

        Example:
            >>> v.float64().validate(0.5), v.float64().to_json()
            (0.5, {'type': 'number'})
        """
        return VFloat64()

    @staticmethod
    def int64() -> VInt64:
        """An int64: an ``Int64``, or a plain ``int`` in range (converted to ``Int64``).

        Example:
            >>> v.int64().validate(5)
            Int64(5)
        """
        return VInt64()

    @staticmethod
    def bigint() -> VInt64:
        """An int64; the same validator as :meth:`int64` (Convex's JavaScript name).

        Example:
            >>> v.bigint().to_json()
            {'type': 'bigint'}
        """
        return VInt64()

    @staticmethod
    def boolean() -> VBoolean:
        """``True`` or ``False`` (not ``0``/``1``).

        Example:
            >>> v.boolean().validate(True)
            True
        """
        return VBoolean()

    @staticmethod
    def null() -> VNull:
        """``None``.

        Example:
            >>> v.null().to_json()
            {'type': 'null'}
        """
        return VNull()

    @staticmethod
    def bytes() -> VBytes:
        """``bytes`` (``bytearray``/``memoryview`` are converted).

        Example:
            >>> v.bytes().validate(b"\\x00")
            b'\\x00'
        """
        return VBytes()

    @staticmethod
    def any() -> VAny:
        """Any Convex value, normalised like :func:`~authlib_core.values.to_value`.

        Example:
            >>> v.any().validate([1])
            [1.0]
        """
        return VAny()

    @staticmethod
    def id(table: str) -> VId:
        """An id of a document in ``table`` (checked from the id itself, without a read).

        Example:
            >>> v.id("users")
            v.id("users")
        """
        return VId(table)

    @staticmethod
    def literal(value: LiteralValue) -> VLiteral:
        """Exactly ``value``, type included: a str, bool, float (a plain int counts as float) or Int64.

        Example:
            >>> v.literal("admin").validate("admin"), v.literal(3)
            ('admin', v.literal(3.0))
        """
        return VLiteral(value)

    @staticmethod
    def array(element: Validator) -> VArray:
        """A list (or tuple) whose elements match ``element``.

        Example:
            >>> v.array(v.string()).validate(("a", "b"))
            ['a', 'b']
        """
        return VArray(element)

    @staticmethod
    def object(fields: Mapping[str, Validator]) -> VObject:
        """A dict with exactly ``fields``; fields wrapped in :meth:`optional` may be absent.

        Example:
            >>> v.object({"a": v.string()}).validate({"a": "x"})
            {'a': 'x'}
        """
        return VObject(fields)

    @staticmethod
    def optional(inner: Validator) -> VOptional:
        """Marks an object field as optional (it may be absent; ``None`` is still null, not absent).

        Example:
            >>> v.object({"a": v.optional(v.string())}).validate({})
            {}
        """
        return VOptional(inner)

    @staticmethod
    def nullable(inner: Validator) -> VUnion:
        """``inner`` or ``None``: exactly ``v.union(inner, v.null())``.

        Example:
            >>> v.nullable(v.string())
            v.union(v.string(), v.null())
        """
        return VUnion((inner, VNull()))

    @staticmethod
    def union(*members: Validator) -> VUnion:
        """Any of ``members``, tried in order; the first match wins.

        Example:
            >>> v.union(v.string(), v.null()).validate("x")
            'x'
        """
        return VUnion(members)

    @staticmethod
    def record(keys: Validator, values: Validator) -> VRecord:
        """A dict with any keys matching ``keys`` and values matching ``values``.

        Example:
            >>> v.record(v.string(), v.float64()).validate({"a": 1})
            {'a': 1.0}
        """
        return VRecord(keys, values)

    def __repr__(self) -> str:
        return "v"


#: The validator builders, as in Convex's ``import { v } from "convex/values"``.
#:
#: Example:
#:     >>> v.object({"a": v.optional(v.string())}).to_json()
#:     {'type': 'object', 'value': {'a': {'fieldType': {'type': 'string'}, 'optional': True}}}
v: Final = _ValidatorBuilders()


def as_object_validator(fields: Mapping[str, Validator] | Validator) -> VObject:
    """``fields`` as an object validator: a dict becomes ``v.object(dict)``, a ``v.object`` stays as it is.

    This is how ``args={"text": v.string()}`` and ``args=v.object({...})`` mean the same.

    Example:
        >>> as_object_validator({"text": v.string()}) == v.object({"text": v.string()})
        True
    """
    if isinstance(fields, VObject):
        return fields
    if isinstance(fields, Validator):
        raise SchemaDefinitionError(
            f"Expected a dict of field validators or v.object({{...}}), got {fields!r}. "
            'Function arguments are always an object: wrap the validator, e.g. {"value": '
            f"{fields!r}}}."
        )
    if isinstance(fields, Mapping):
        return VObject(fields)
    raise SchemaDefinitionError(
        f"Expected a dict of field validators or v.object({{...}}), got {type_name(fields)} ({describe(fields)})."
    )
