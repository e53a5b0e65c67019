"""Filter expressions: the ``q`` passed to ``.filter(lambda q: ...)``.

Comparisons use Convex's total order across types (a missing field is ``undefined``, which sorts first);
arithmetic works on two float64s or two int64s; ``and_``, ``or_`` and ``not_`` (Python keywords rename
Convex's ``and``, ``or``, ``not``) take booleans only. As in Convex, a non-boolean operand of a boolean
operator, or a filter whose value is not a boolean, raises ``InvalidQueryError`` ("Cannot use value ... as a
Boolean") instead of silently dropping the document.

Example:
    >>> q = FilterBuilder()
    >>> expr = q.and_(q.eq(q.field("author.name"), "ann"), q.not_(q.lt(q.field("likes"), 3)))
    >>> expr.evaluate({"author": {"name": "ann"}, "likes": 5.0})
    True
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from authlib_core.database.keys import field_value
from authlib_core.display import display_value
from authlib_core.errors import InvalidQueryError
from authlib_core.values import UNDEFINED, Int64, JSONValue, Value, compare, encode, to_value
from authlib_core.values._common import describe as describe_value

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["MAX_FILTER_OPERATORS", "Expression", "FilterBuilder", "as_boolean", "convex_type_name", "as_predicate"]

#: Convex allows at most 256 operators (``.filter`` calls) in one query.
MAX_FILTER_OPERATORS = 256

#: Convex's type names, used in evaluation errors ("... (type Float64) ...").
_CONVEX_TYPE_NAMES: dict[type, str] = {
    type(None): "Null",
    Int64: "Int64",
    float: "Float64",
    bool: "Boolean",
    str: "String",
    bytes: "Bytes",
    list: "Array",
    dict: "Object",
}


def convex_type_name(value: object) -> str:
    """Convex's name for the type of ``value`` (``"Float64"``, ``"String"``, ``"undefined"`` ...).

    Example:
        >>> convex_type_name(1.0), convex_type_name(Int64(1)), convex_type_name(UNDEFINED)
        ('Float64', 'Int64', 'undefined')
    """
    if value is UNDEFINED:
        return "undefined"
    return _CONVEX_TYPE_NAMES.get(type(value), type(value).__name__)


def as_boolean(value: object) -> bool:
    """``value`` if it is a boolean; otherwise Convex's evaluation error.

    Example:
        >>> as_boolean(True)
        True
        >>> as_boolean(1.0)
        Traceback (most recent call last):
        ...
        authlib_core.errors.InvalidQueryError: Cannot use value 1.0 (type Float64) as a Boolean. ...
    """
    if isinstance(value, bool):
        return value
    shown = "undefined" if value is UNDEFINED else describe_value(value)
    raise InvalidQueryError(
        f"Cannot use value {shown} (type {convex_type_name(value)}) as a Boolean. A filter, and every operand of "
        "q.and_, q.or_ and q.not_, must be a boolean: compare a field with q.eq / q.gt / ... "
        "(for example q.eq(q.field('done'), True)) instead of using the field itself."
    )


_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class Expression(ABC):
    """A filter expression node.

    Python's comparison operators and ``bool()`` are refused on expressions: ``q.field("a") == 1.0`` or
    ``q.eq(...) and q.eq(...)`` would otherwise quietly compute a Python value instead of a filter.
    """

    __slots__ = ()
    __hash__ = object.__hash__

    def _refuse(self, operator: str, builder: str) -> InvalidQueryError:
        return InvalidQueryError(
            f"Python's {operator} does not build a filter expression; use {builder} inside the filter function "
            "(for example lambda q: q.eq(q.field('done'), False))."
        )

    def __eq__(self, other: object) -> bool:
        raise self._refuse("==", "q.eq(a, b)")

    def __ne__(self, other: object) -> bool:
        raise self._refuse("!=", "q.neq(a, b)")

    def __lt__(self, other: object) -> bool:
        raise self._refuse("<", "q.lt(a, b)")

    def __le__(self, other: object) -> bool:
        raise self._refuse("<=", "q.lte(a, b)")

    def __gt__(self, other: object) -> bool:
        raise self._refuse(">", "q.gt(a, b)")

    def __ge__(self, other: object) -> bool:
        raise self._refuse(">=", "q.gte(a, b)")

    def __bool__(self) -> bool:
        raise self._refuse("and / or / not (truth value)", "q.and_(...), q.or_(...), q.not_(x)")

    @abstractmethod
    def evaluate(self, document: Mapping[str, Value]) -> Value | object:
        """The expression's value for ``document`` (``UNDEFINED`` for a missing field)."""

    @abstractmethod
    def to_json(self) -> JSONValue:
        """Convex's serialized filter form (``{"$eq": [...]}``...)."""


class _Field(Expression):
    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        if not isinstance(path, str) or not path:
            raise InvalidQueryError(f"q.field expects a non-empty field path like 'author.name', got {path!r}.")
        self.path = path

    def evaluate(self, document: Mapping[str, Value]) -> Value | object:
        return field_value(document, self.path)

    def to_json(self) -> JSONValue:
        return {"$field": self.path}


class _Literal(Expression):
    __slots__ = ("value",)

    def __init__(self, value: Value | object) -> None:
        self.value = value

    def evaluate(self, document: Mapping[str, Value]) -> Value | object:
        return self.value

    def to_json(self) -> JSONValue:
        if self.value is UNDEFINED:
            return {"$literal": {"$undefined": None}}
        return {"$literal": encode(self.value, "convex_encoded_json")}  # type: ignore[arg-type]


class _Operator(Expression):
    __slots__ = ("args", "name")

    _comparisons: ClassVar[dict[str, Callable[[int], bool]]] = {
        "eq": lambda c: c == 0,
        "neq": lambda c: c != 0,
        "lt": lambda c: c < 0,
        "lte": lambda c: c <= 0,
        "gt": lambda c: c > 0,
        "gte": lambda c: c >= 0,
    }

    def __init__(self, name: str, args: tuple[Expression, ...]) -> None:
        self.name = name
        self.args = args

    def evaluate(self, document: Mapping[str, Value]) -> Value | object:
        name = self.name
        if name in self._comparisons:
            left, right = (arg.evaluate(document) for arg in self.args)
            return self._comparisons[name](compare(left, right))  # type: ignore[arg-type]
        if name == "and":  # short-circuits like Convex: later operands are not evaluated (nor checked)
            return all(as_boolean(arg.evaluate(document)) for arg in self.args)
        if name == "or":
            return any(as_boolean(arg.evaluate(document)) for arg in self.args)
        if name == "not":
            return not as_boolean(self.args[0].evaluate(document))
        if name == "neg":
            return _negate(self.args[0].evaluate(document))
        left, right = (arg.evaluate(document) for arg in self.args)
        return _arithmetic(name, left, right)

    def to_json(self) -> JSONValue:
        if self.name in ("not", "neg"):
            return {f"${self.name}": self.args[0].to_json()}
        return {f"${self.name}": [arg.to_json() for arg in self.args]}


def _number_kind(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Int64):
        return "int64"
    if isinstance(value, float):
        return "float64"
    return None


def _negate(value: object) -> Value:
    kind = _number_kind(value)
    if kind == "float64":
        return -float(value)  # type: ignore[arg-type]
    if kind == "int64":
        return _int64(-int(value), "neg")  # type: ignore[call-overload]
    raise InvalidQueryError(f"q.neg expects a number, got {display_value(value)}.")


def _int64(result: int, op: str) -> Int64:
    if not _INT64_MIN <= result <= _INT64_MAX:
        raise InvalidQueryError(f"q.{op} overflowed int64 (result {result}).")
    return Int64(result)


def _arithmetic(name: str, left: object, right: object) -> Value:
    kinds = (_number_kind(left), _number_kind(right))
    if kinds[0] is None or kinds[0] != kinds[1]:
        raise InvalidQueryError(
            f"q.{name} needs two float64 values or two int64 values, got {display_value(left)} and "
            f"{display_value(right)}. "
            "Common mistake: comparing an Int64 field with a plain Python int (a plain int is a float64)."
        )
    if kinds[0] == "float64":
        a, b = float(left), float(right)  # type: ignore[arg-type]
        if name == "add":
            return a + b
        if name == "sub":
            return a - b
        if name == "mul":
            return a * b
        if name == "div":
            if b == 0.0:
                return math.nan if a == 0.0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
            return a / b
        return math.fmod(a, b) if b != 0.0 else math.nan
    x, y = int(left), int(right)  # type: ignore[call-overload]
    if name == "add":
        return _int64(x + y, name)
    if name == "sub":
        return _int64(x - y, name)
    if name == "mul":
        return _int64(x * y, name)
    if y == 0:
        raise InvalidQueryError(f"q.{name} divided an int64 by zero.")
    quotient = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)  # truncates toward zero, like JS BigInt
    if name == "div":
        return _int64(quotient, name)
    return _int64(x - quotient * y, name)


def _expr(value: object) -> Expression:
    if isinstance(value, Expression):
        return value
    if value is UNDEFINED:
        return _Literal(UNDEFINED)
    return _Literal(to_value(value))


def as_predicate(result: object) -> Expression:
    """What a ``filter`` function returned, as an expression: an expression, or a literal value (Convex accepts
    ``filter(q => true)``). The literal must still be a boolean when the filter runs.

    Example:
        >>> as_predicate(True).evaluate({})
        True

    Raises:
        InvalidQueryError: the function returned ``None`` (a missing ``return``).
    """
    if result is None:
        raise InvalidQueryError(
            "filter() expects a function returning a filter expression built from q (for example "
            "lambda q: q.eq(q.field('done'), False)) or a boolean; it returned None. Did the function forget "
            "`return`?"
        )
    return _expr(result)


class FilterBuilder:
    """Builds filter expressions; plain Python values become literals (``int`` is float64, use ``Int64``)."""

    __slots__ = ()

    def field(self, path: str) -> Expression:
        """The value of a (dotted) field of the document; ``UNDEFINED`` when missing."""
        return _Field(path)

    def eq(self, left: object, right: object) -> Expression:
        """``left == right`` in Convex's value order."""
        return _Operator("eq", (_expr(left), _expr(right)))

    def neq(self, left: object, right: object) -> Expression:
        """``left != right``."""
        return _Operator("neq", (_expr(left), _expr(right)))

    def lt(self, left: object, right: object) -> Expression:
        """``left < right``."""
        return _Operator("lt", (_expr(left), _expr(right)))

    def lte(self, left: object, right: object) -> Expression:
        """``left <= right``."""
        return _Operator("lte", (_expr(left), _expr(right)))

    def gt(self, left: object, right: object) -> Expression:
        """``left > right``."""
        return _Operator("gt", (_expr(left), _expr(right)))

    def gte(self, left: object, right: object) -> Expression:
        """``left >= right``."""
        return _Operator("gte", (_expr(left), _expr(right)))

    def add(self, left: object, right: object) -> Expression:
        """``left + right`` (two float64s or two int64s)."""
        return _Operator("add", (_expr(left), _expr(right)))

    def sub(self, left: object, right: object) -> Expression:
        """``left - right``."""
        return _Operator("sub", (_expr(left), _expr(right)))

    def mul(self, left: object, right: object) -> Expression:
        """``left * right``."""
        return _Operator("mul", (_expr(left), _expr(right)))

    def div(self, left: object, right: object) -> Expression:
        """``left / right`` (int64 division truncates toward zero)."""
        return _Operator("div", (_expr(left), _expr(right)))

    def mod(self, left: object, right: object) -> Expression:
        """``left % right`` with the sign of ``left``."""
        return _Operator("mod", (_expr(left), _expr(right)))

    def neg(self, value: object) -> Expression:
        """``-value``."""
        return _Operator("neg", (_expr(value),))

    def and_(self, *exprs: object) -> Expression:
        """True when every expression is true (Convex's ``q.and``)."""
        return _Operator("and", tuple(_expr(e) for e in exprs))

    def or_(self, *exprs: object) -> Expression:
        """True when any expression is true (Convex's ``q.or``)."""
        return _Operator("or", tuple(_expr(e) for e in exprs))

    def not_(self, expr: object) -> Expression:
        """True when ``expr`` is not true (Convex's ``q.not``)."""
        return _Operator("not", (_expr(expr),))
