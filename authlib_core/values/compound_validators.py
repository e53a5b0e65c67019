"""Compound validators: ``v.array(x)``, ``v.object({...})``, ``v.optional(x)``, ``v.union(...)`` and
``v.record(keys, values)``.

Example:
    >>> from authlib_core.values import v
    >>> v.object({"tags": v.array(v.string()), "n": v.optional(v.float64())}).validate({"tags": ("a",)})
    {'tags': ['a']}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from authlib_core.errors import SchemaDefinitionError
from authlib_core.values._common import describe, field_name_problem, index_path, key_path, type_name
from authlib_core.values.scalar_validators import VLiteral
from authlib_core.values.validator import (
    Validator,
    ValidatorMismatch,
    check_field_name,
    check_member,
    check_validator,
    quote,
)

if TYPE_CHECKING:
    from authlib_core.values.types import JSONValue, Value

__all__ = ["VArray", "VObject", "VOptional", "VRecord", "VUnion"]


@dataclass(frozen=True, slots=True, repr=False)
class VArray(Validator):
    """``v.array(element)``: a ``list`` (or ``tuple``) whose elements all match ``element``.

    Example:
        >>> v.array(v.float64()).validate((1, 2.5)), v.array(v.null()).to_json()
        ([1.0, 2.5], {'type': 'array', 'value': {'type': 'null'}})
    """

    element: Validator
    kind: Literal["array"] = field(default="array", init=False)

    def __post_init__(self) -> None:
        check_member(self.element, "v.array()", "the element validator")

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "array", "value": self.element.to_json()}

    def validate(self, value: object, path: str = "") -> Value:
        if not isinstance(value, list | tuple):
            raise self._mismatch(value, path)
        element = self.element
        return [element.validate(item, index_path(path, i)) for i, item in enumerate(value)]

    def __repr__(self) -> str:
        return f"v.array({self.element!r})"


@dataclass(frozen=True, slots=True, repr=False)
class VObject(Validator):
    """``v.object({...})``: a dict with exactly these fields (``v.optional`` ones may be absent).

    Example:
        >>> person = v.object({"name": v.string(), "age": v.optional(v.float64())})
        >>> person.validate({"name": "Ada"})
        {'name': 'Ada'}
        >>> person.to_json()["value"]["age"]
        {'fieldType': {'type': 'number'}, 'optional': True}
    """

    fields: Mapping[str, Validator]
    kind: Literal["object"] = field(default="object", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.fields, Mapping):
            raise SchemaDefinitionError(
                f"v.object() takes a dict of field name → validator, not {type_name(self.fields)}."
            )
        for name, validator in self.fields.items():
            check_field_name(name, "v.object()")
            check_validator(validator, f"v.object(): field {name!r}")
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def __hash__(self) -> int:
        return hash(tuple(self.fields.items()))

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "object", "value": {name: _field_json(item) for name, item in self.fields.items()}}

    def validate(self, value: object, path: str = "") -> Value:
        if not isinstance(value, Mapping):
            raise self._mismatch(value, path)
        fields = self.fields
        missing = [name for name, validator in fields.items() if not validator.is_optional and name not in value]
        if missing:
            raise self._mismatch(value, path, f"Object is missing the required {_names('field', missing)}.")
        extra = [key for key in value if key not in fields]
        if extra:
            raise self._mismatch(value, path, f"Object contains extra {_names('field', extra)} not in the validator.")
        return {
            name: validator.validate(value[name], key_path(path, name))
            for name, validator in fields.items()
            if name in value
        }

    def __repr__(self) -> str:
        inner = ", ".join(f"{quote(name)}: {validator!r}" for name, validator in self.fields.items())
        return f"v.object({{{inner}}})"


@dataclass(frozen=True, slots=True, repr=False)
class VOptional(Validator):
    """``v.optional(x)``: as an object field, the field may be absent; when present it must match ``x``.

    Only meaningful as a field of ``v.object``; ``v.array``, ``v.union``, ``v.record`` and
    ``v.optional`` reject it. Its ``to_json()`` is the inner validator's (the flag lives in the field
    entry), and ``validate`` of a present value is the inner validator's.

    Example:
        >>> v.optional(v.string()).validate("x"), v.optional(v.string()).is_optional
        ('x', True)
    """

    inner: Validator
    kind: Literal["optional"] = field(default="optional", init=False)

    def __post_init__(self) -> None:
        check_member(self.inner, "v.optional()", "its argument")

    @property
    def is_optional(self) -> bool:
        return True

    def to_json(self) -> dict[str, JSONValue]:
        return self.inner.to_json()

    def validate(self, value: object, path: str = "") -> Value:
        return self.inner.validate(value, path)

    def __repr__(self) -> str:
        return f"v.optional({self.inner!r})"


@dataclass(frozen=True, slots=True, repr=False)
class VUnion(Validator):
    """``v.union(a, b, ...)``: the first member that matches wins; on failure all members are reported.

    Example:
        >>> v.union(v.float64(), v.int64()).validate(2**62 + 1)  # too big for a float64
        Int64(4611686018427387905)
    """

    members: tuple[Validator, ...]
    kind: Literal["union"] = field(default="union", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.members, tuple) or not self.members:
            raise SchemaDefinitionError("v.union() needs at least one member validator.")
        for index, member in enumerate(self.members):
            check_member(member, "v.union()", f"member {index}")

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "union", "value": [member.to_json() for member in self.members]}

    def validate(self, value: object, path: str = "") -> Value:
        failures: list[ValidatorMismatch] = []
        for member in self.members:
            try:
                return member.validate(value, path)
            except ValidatorMismatch as exc:
                failures.append(exc)
        raise ValidatorMismatch(path=path, expected=repr(self), got=describe(value), alternatives=tuple(failures))

    def __repr__(self) -> str:
        return f"v.union({', '.join(repr(member) for member in self.members)})"


@dataclass(frozen=True, slots=True, repr=False)
class VRecord(Validator):
    """``v.record(keys, values)``: a dict with any number of keys matching ``keys``, values matching ``values``.

    ``keys`` is ``v.string()``, ``v.id(...)``, a string ``v.literal``, or a union of those. Keys must be
    non-empty printable ASCII, not starting with ``$`` or ``_``.

    Example:
        >>> scores = v.record(v.string(), v.float64())
        >>> scores.validate({"ada": 3}), scores.to_json()["values"]
        ({'ada': 3.0}, {'fieldType': {'type': 'number'}, 'optional': False})
    """

    keys: Validator
    values: Validator
    kind: Literal["record"] = field(default="record", init=False)

    def __post_init__(self) -> None:
        check_member(self.keys, "v.record()", "the key validator")
        check_member(self.values, "v.record()", "the value validator")
        if not _is_record_key(self.keys):
            raise SchemaDefinitionError(
                f"v.record(): keys must be v.string(), v.id(...), a string v.literal or a union of those, "
                f"not {self.keys!r}."
            )

    def to_json(self) -> dict[str, JSONValue]:
        return {"type": "record", "keys": self.keys.to_json(), "values": _field_json(self.values)}

    def validate(self, value: object, path: str = "") -> Value:
        if not isinstance(value, Mapping):
            raise self._mismatch(value, path)
        result: dict[str, Value] = {}
        for key, item in value.items():
            item_path = key_path(path, key)
            if not isinstance(key, str):
                raise self._mismatch(value, path, f"Record key {key!r} is a {type_name(key)}, not a string.")
            problem = _record_key_problem(key)
            if problem is not None:
                raise self._mismatch(value, path, f"Record key {key!r} {problem}.")
            try:
                self.keys.validate(key, item_path)
            except ValidatorMismatch:
                raise ValidatorMismatch(
                    path=item_path,
                    expected=repr(self.keys),
                    got=describe(key),
                    reason="Record key does not match validator.",
                ) from None
            result[key] = self.values.validate(item, item_path)
        return result

    def __repr__(self) -> str:
        return f"v.record({self.keys!r}, {self.values!r})"


def _field_json(validator: Validator) -> dict[str, JSONValue]:
    return {"fieldType": validator.to_json(), "optional": validator.is_optional}


def _is_record_key(validator: Validator) -> bool:
    if validator.kind in ("string", "id"):
        return True
    if isinstance(validator, VLiteral):
        return isinstance(validator.value, str)
    if isinstance(validator, VUnion):
        return all(_is_record_key(member) for member in validator.members)
    return False


def _record_key_problem(key: str) -> str | None:
    if not key:
        return "is empty"
    if key.startswith("_"):
        return "starts with '_', which is reserved for system fields"
    return field_name_problem(key)


def _names(noun: str, names: Sequence[object]) -> str:
    quoted = ", ".join(f"`{name}`" for name in names)
    return f"{noun}s {quoted}" if len(names) > 1 else f"{noun} {quoted}"
