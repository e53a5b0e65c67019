"""The validator base class :class:`Validator` and the error it raises, :class:`ValidatorMismatch`.

Each validator has a ``kind`` tag, ``to_json()`` (exactly Convex's validator JSON), ``validate(value, path)``
(returns the *normalised* value or raises :class:`ValidatorMismatch`) and a ``repr`` that reads as the builder
call. Dispatch on ``kind``; the ABC is shared code, not a type hierarchy to ``isinstance`` against.

Example:
    >>> from authlib_core.values import v
    >>> v.array(v.string()).kind, v.array(v.string()).element.kind
    ('array', 'string')
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

from authlib_core.errors import InvalidValueError, SchemaDefinitionError
from authlib_core.values._common import describe, field_name_problem, type_name

if TYPE_CHECKING:
    from authlib_core.values.types import JSONValue, Value

__all__ = ["Validator", "ValidatorKind", "ValidatorMismatch"]

ValidatorKind: TypeAlias = Literal[
    "string",
    "float64",
    "int64",
    "boolean",
    "null",
    "bytes",
    "any",
    "id",
    "literal",
    "array",
    "object",
    "optional",
    "union",
    "record",
]

_MAX_EXPECTED_IN_MESSAGE: Final = 200
DEFAULT_REASON: Final = "Value does not match validator."
_BUILDER_NAMES: Final = frozenset({"string", "number", "float64", "int64", "bigint", "boolean", "null", "bytes", "any"})


class ValidatorMismatch(InvalidValueError):
    """A value does not match a validator.

    Attributes: ``path`` (``".items[2].text"``, ``""`` for the root), ``expected`` (the validator as its
    builder call, ``"v.string()"``), ``got`` (a short ``repr`` of the value), ``reason`` (the first sentence)
    and, for unions, ``alternatives`` (why each member failed).

    Example:
        >>> try:
        ...     v.object({"items": v.array(v.object({"text": v.string()}))}).validate({"items": [{"text": 3}]})
        ... except ValidatorMismatch as exc:
        ...     print(exc)
        ...     exc.path
        Value does not match validator. Path: .items[0].text. Value: 3. Validator: v.string()
        '.items[0].text'
    """

    def __init__(
        self,
        *,
        path: str,
        expected: str,
        got: str,
        reason: str = DEFAULT_REASON,
        alternatives: tuple[ValidatorMismatch, ...] = (),
    ) -> None:
        self.path = path
        self.expected = expected
        self.got = got
        self.reason = reason
        self.alternatives = alternatives
        shown = expected if len(expected) <= _MAX_EXPECTED_IN_MESSAGE else expected[:197] + "..."
        parts = [reason]
        if path:
            parts.append(f"Path: {path}.")
        parts += [f"Value: {got}.", f"Validator: {shown}"]
        deepest = max(alternatives, key=lambda alt: len(alt.path), default=None)
        if deepest is not None and len(deepest.path) > len(path):
            parts.append(f"(Closest member: {deepest.message})")
        super().__init__(" ".join(parts))

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only __init__: tell pickle/copy how to rebuild the exception.
        fields = (self.path, self.expected, self.got, self.reason, self.alternatives)
        return (_rebuild_mismatch, fields)


def _rebuild_mismatch(
    path: str, expected: str, got: str, reason: str, alternatives: tuple[ValidatorMismatch, ...]
) -> ValidatorMismatch:
    return ValidatorMismatch(path=path, expected=expected, got=got, reason=reason, alternatives=alternatives)


class Validator(ABC):
    """Base of every validator. Build validators with :data:`~authlib_core.values.v`, not directly.

    Example:
        >>> validator = v.union(v.string(), v.null())
        >>> validator.kind, validator.to_json(), validator.validate(None)
        ('union', {'type': 'union', 'value': [{'type': 'string'}, {'type': 'null'}]}, None)
    """

    __slots__ = ()

    kind: ValidatorKind

    @property
    def is_optional(self) -> bool:
        """Whether this validator is ``v.optional(...)`` (meaningful only as an object field)."""
        return False

    @abstractmethod
    def to_json(self) -> dict[str, JSONValue]:
        """Convex's JSON form of this validator (what ``validator.json`` is in the JS package)."""

    @abstractmethod
    def validate(self, value: object, path: str = "") -> Value:
        """The normalised ``value``, or :class:`ValidatorMismatch` naming ``path``."""

    @abstractmethod
    def __repr__(self) -> str: ...

    def _mismatch(self, value: object, path: str, reason: str = DEFAULT_REASON) -> ValidatorMismatch:
        return ValidatorMismatch(path=path, expected=repr(self), got=describe(value), reason=reason)


def check_validator(candidate: object, where: str) -> None:
    """Raise :class:`SchemaDefinitionError` unless ``candidate`` is a validator (``where`` names the spot)."""
    if isinstance(candidate, Validator):
        return
    hint = ""
    name = getattr(candidate, "__name__", "")
    if callable(candidate) and name in _BUILDER_NAMES:
        hint = f" Did you forget the parentheses (v.{name}() instead of v.{name})?"
    got = f"{type_name(candidate)} ({describe(candidate)})"
    raise SchemaDefinitionError(f"{where} is not a validator: got {got}.{hint}")


def check_member(candidate: object, builder: str, what: str) -> None:
    """Like :func:`check_validator`, and reject ``v.optional`` (allowed only as a ``v.object`` field)."""
    check_validator(candidate, f"{builder}: {what}")
    assert isinstance(candidate, Validator)
    if candidate.is_optional:
        raise SchemaDefinitionError(
            f"{builder}: {what} is {candidate!r}, but v.optional() is only allowed as a field of v.object(). "
            "For a value that may be null use v.nullable(...)."
        )


def check_field_name(name: object, builder: str) -> None:
    """Raise unless ``name`` is a valid object field name: non-empty printable ASCII, no leading ``$``."""
    if not isinstance(name, str) or not name:
        raise SchemaDefinitionError(f"{builder}: field names must be non-empty strings, not {name!r}.")
    problem = field_name_problem(name)
    if problem is not None:
        raise SchemaDefinitionError(f"{builder}: field name {name!r} {problem}.")


def quote(text: str) -> str:
    """``text`` as a double-quoted literal, for validator reprs (``v.id("users")``)."""
    return json.dumps(text, ensure_ascii=False)
