"""Index range expressions: ``q.eq(...)`` on a prefix of the index fields, then at most one lower and one
upper bound on the next field — Convex's rule — compiled to a half-open interval of encoded keys.

Example:
    >>> b = IndexRangeBuilder("myData.by_user", ("userId", "_creationTime"))
    >>> r = b.eq("userId", "u1").gt("_creationTime", 5.0)
    >>> [op.op for op in r.ops]
    ['eq', 'gt']
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from authlib_core.database.interface import IndexSpec, KeyRange
from authlib_core.errors import InvalidQueryError
from authlib_core.values import UNDEFINED, JSONValue, Value, encode, prefix_successor, sort_key, to_value

__all__ = ["IndexRangeBuilder", "RangeOp", "compile_range"]

Op = Literal["eq", "gt", "gte", "lt", "lte"]

#: Every real key starts with a type tag >= 0x01; engines keep bookkeeping items at keys starting 0x00.
_FIRST_KEY = b"\x01"
_PAST_LAST_KEY = b"\xff"


@dataclasses.dataclass(frozen=True, slots=True)
class RangeOp:
    """One step of a range expression."""

    op: Op
    field: str
    value: Value | object  # UNDEFINED allowed: it sorts first (a missing field)

    def to_json(self) -> JSONValue:
        """Convex's serialized form (``{"type": "Eq", "fieldPath", "value"}``), used in query fingerprints."""
        if self.value is UNDEFINED:
            value: JSONValue = {"$undefined": None}
        else:
            value = encode(self.value, "convex_encoded_json")  # type: ignore[arg-type]  # a Value once not UNDEFINED
        return {"type": self.op.capitalize(), "fieldPath": self.field, "value": value}


class IndexRangeBuilder:
    """The ``q`` passed to ``with_index(name, lambda q: ...)``. Each call returns a new builder."""

    __slots__ = ("_fields", "_index", "ops")

    def __init__(self, index: str, fields: tuple[str, ...], ops: tuple[RangeOp, ...] = ()) -> None:
        self._index = index
        self._fields = fields
        self.ops = ops

    def _eq_count(self) -> int:
        return sum(1 for op in self.ops if op.op == "eq")

    def _with(self, op: RangeOp) -> IndexRangeBuilder:
        return IndexRangeBuilder(self._index, self._fields, (*self.ops, op))

    def _check_field(self, method: str, field: str) -> str:
        position = self._eq_count()
        if position >= len(self._fields):
            raise InvalidQueryError(
                f"with_index({self._index!r}): q.{method}({field!r}) comes after every field of the index is fixed "
                f"by q.eq; the index fields are {list(self._fields)}."
            )
        expected = self._fields[position]
        if field != expected:
            raise InvalidQueryError(
                f"with_index({self._index!r}): q.{method}({field!r}) is out of order. Index ranges must use the "
                f"index fields in order {list(self._fields)}; the next field here is {expected!r}."
            )
        return field

    def eq(self, field: str, value: object) -> IndexRangeBuilder:
        """Fix the next index field to ``value`` (``UNDEFINED`` matches documents without the field)."""
        if any(op.op != "eq" for op in self.ops):
            raise InvalidQueryError(
                f"with_index({self._index!r}): q.eq({field!r}) after a range bound. Put every q.eq first, then at "
                "most one lower bound (gt/gte) and one upper bound (lt/lte) on the next field."
            )
        self._check_field("eq", field)
        return self._with(RangeOp("eq", field, value if value is UNDEFINED else to_value(value, field)))

    def _bound(self, op: Op, field: str, value: object) -> IndexRangeBuilder:
        lower = op in ("gt", "gte")
        same_side = [existing for existing in self.ops if existing.op in (("gt", "gte") if lower else ("lt", "lte"))]
        if same_side:
            side = "lower" if lower else "upper"
            raise InvalidQueryError(
                f"with_index({self._index!r}): two {side} bounds (q.{same_side[0].op} and q.{op}); an index range "
                f"has at most one {side} bound."
            )
        other = [existing for existing in self.ops if existing.op != "eq"]
        if other and other[0].field != field:
            raise InvalidQueryError(
                f"with_index({self._index!r}): q.{op}({field!r}) bounds a different field than "
                f"q.{other[0].op}({other[0].field!r}); both bounds must be on the same field, the one after the "
                "q.eq fields."
            )
        self._check_field(op, field)
        return self._with(RangeOp(op, field, value if value is UNDEFINED else to_value(value, field)))

    def gt(self, field: str, value: object) -> IndexRangeBuilder:
        """Lower bound, exclusive. ``q.gt(field, UNDEFINED)``: the documents that have the field (``undefined``
        sorts before every value)."""
        return self._bound("gt", field, value)

    def gte(self, field: str, value: object) -> IndexRangeBuilder:
        """Lower bound, inclusive."""
        return self._bound("gte", field, value)

    def lt(self, field: str, value: object) -> IndexRangeBuilder:
        """Upper bound, exclusive."""
        return self._bound("lt", field, value)

    def lte(self, field: str, value: object) -> IndexRangeBuilder:
        """Upper bound, inclusive."""
        return self._bound("lte", field, value)


def compile_range(index: IndexSpec, ops: tuple[RangeOp, ...]) -> KeyRange:
    """Turn validated range steps into ``[lower, upper)`` over encoded keys.

    Keys are prefix-free concatenations of sort keys, so "every key whose next field equals x" is exactly the
    keys starting with ``prefix + sort_key(x)``.
    """
    eq_values = tuple(op.value for op in ops if op.op == "eq")
    prefix = b"".join(sort_key(value) for value in eq_values)  # type: ignore[arg-type]
    lower = prefix or _FIRST_KEY
    upper = prefix_successor(prefix) if prefix else _PAST_LAST_KEY
    for op in ops:
        if op.op == "eq":
            continue
        bound = prefix + sort_key(op.value)  # type: ignore[arg-type]
        if op.op == "gte":
            lower = bound
        elif op.op == "gt":
            lower = prefix_successor(bound)
        elif op.op == "lt":
            upper = bound
        else:
            upper = prefix_successor(bound)
    return KeyRange(index=index, lower=lower, upper=upper, eq_values=eq_values)  # type: ignore[arg-type]
