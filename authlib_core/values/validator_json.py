"""Rebuild a validator from Convex's validator JSON (the inverse of ``Validator.to_json()``).

Example:
    >>> from authlib_core.values import v, validator_from_json
    >>> validator_from_json({"type": "array", "value": {"type": "bigint"}}) == v.array(v.int64())
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib_core.errors import InvalidValueError, SchemaDefinitionError
from authlib_core.values._common import describe, index_path, key_path
from authlib_core.values.encoding import decode
from authlib_core.values.types import Int64, JSONValue
from authlib_core.values.validators import (
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

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["validator_from_json"]

_SIMPLE: dict[str, type[Validator]] = {
    "string": VString,
    "number": VFloat64,
    "bigint": VInt64,
    "boolean": VBoolean,
    "null": VNull,
    "bytes": VBytes,
    "any": VAny,
}


def validator_from_json(obj: JSONValue, path: str = "") -> Validator:
    """The validator whose ``to_json()`` is ``obj``; :class:`SchemaDefinitionError` if ``obj`` is not one.

    An object field ``{"fieldType": ..., "optional": true}`` becomes ``v.optional(...)``.

    Example:
        >>> validator_from_json({"type": "object", "value": {"a": {"fieldType": {"type": "string"}, "optional": True}}})
        v.object({"a": v.optional(v.string())})
    """
    node = _mapping(obj, path)
    kind = node.get("type")
    simple = _SIMPLE.get(kind) if isinstance(kind, str) else None
    if simple is not None:
        return simple()
    if kind == "id":
        table = node.get("tableName")
        if not isinstance(table, str):
            raise _error(path, "an id validator needs a string 'tableName'")
        return VId(table)
    if kind == "literal":
        return VLiteral(_literal(node.get("value"), path))
    if kind == "array":
        return VArray(validator_from_json(node.get("value"), key_path(path, "value")))
    if kind == "object":
        fields = _mapping(node.get("value"), key_path(path, "value"))
        return VObject({name: _field(entry, key_path(key_path(path, "value"), name)) for name, entry in fields.items()})
    if kind == "union":
        members = node.get("value")
        if not isinstance(members, list):
            raise _error(path, "a union validator needs a list 'value'")
        upath = key_path(path, "value")
        return VUnion(tuple(validator_from_json(member, index_path(upath, i)) for i, member in enumerate(members)))
    if kind == "record":
        values = _field(node.get("values"), key_path(path, "values"))
        if values.is_optional:
            raise _error(path, "record values cannot be optional")
        return VRecord(validator_from_json(node.get("keys"), key_path(path, "keys")), values)
    raise _error(path, f"unknown or unsupported validator type {kind!r}")


def _field(obj: JSONValue, path: str) -> Validator:
    entry = _mapping(obj, path)
    optional = entry.get("optional", False)
    if not isinstance(optional, bool):
        raise _error(path, "'optional' must be true or false")
    inner = validator_from_json(entry.get("fieldType"), key_path(path, "fieldType"))
    return VOptional(inner) if optional else inner


def _literal(obj: JSONValue, path: str) -> str | bool | float | Int64:
    try:
        value = decode(obj, key_path(path, "value"))
    except InvalidValueError as exc:
        raise _error(path, f"bad literal value: {exc.message}") from None
    if isinstance(value, str | bool | float | Int64):
        return value
    raise _error(path, f"a literal must be a string, number, bigint or boolean, not {describe(value)}")


def _mapping(obj: JSONValue, path: str) -> Mapping[str, JSONValue]:
    if not isinstance(obj, dict):
        raise _error(path, f"expected a JSON object, got {describe(obj)}")
    return obj


def _error(path: str, why: str) -> SchemaDefinitionError:
    return SchemaDefinitionError(f"Invalid validator JSON at {path or 'the top level'}: {why}.")
