"""Index order and filter comparisons follow Convex's total order across types, on every engine."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from authlib_core.values import UNDEFINED, Int64, compare
from tests.contract.conftest import insert_many

if TYPE_CHECKING:
    from authlib_core.database import Database

# Deliberately shuffled; one value per document under "value".
VALUES: list[object] = [
    "b",
    Int64(-(2**63)),
    [1.0, 2.0],
    b"\x00\xff",
    math.inf,
    {"a": 1.0},
    None,
    -0.0,
    "a\x00b",
    Int64(2**63 - 1),
    True,
    0.0,
    "é",
    [1.0],
    -math.inf,
    b"",
    Int64(0),
    "",
    False,
    {"a": 1.0, "b": 0.0},
    math.nan,
    [],
    {},
    "a",
    Int64(-1),
    1.5,
    "\U0001f600",
    b"\x01",
    -2.5,
    "z",
    [[]],
    {"b": None},
]


def _key(value: object) -> object:
    return functools.cmp_to_key(compare)(value)


def _same(a: object, b: object) -> bool:
    return compare(a, b) == 0  # type: ignore[arg-type]


def test_index_order_matches_convex_total_order(db: Database) -> None:
    insert_many(db, "things", [{"value": value} for value in VALUES])
    db.run_mutation(lambda w: w.insert("things", {"other": "no value field"}))
    docs = db.run_query(lambda r: r.query("things").with_index("by_value").collect())
    got = [d.get("value", UNDEFINED) for d in docs]
    expected = [UNDEFINED, *sorted(VALUES, key=_key)]
    assert len(got) == len(expected)
    assert all(_same(a, b) for a, b in zip(got, expected, strict=True)), got
    # int64 sorts before every float64; -0.0 before 0.0; strings by UTF-8 bytes
    kinds = [type(v).__name__ for v in got[1:]]
    assert kinds.index("Int64") < kinds.index("float")
    minus_zero = next(i for i, v in enumerate(got) if isinstance(v, float) and v == 0.0 and math.copysign(1, v) < 0)
    plus_zero = next(i for i, v in enumerate(got) if isinstance(v, float) and v == 0.0 and math.copysign(1, v) > 0)
    assert minus_zero < plus_zero
    strings = [v for v in got if isinstance(v, str)]
    assert strings == sorted(strings, key=lambda s: s.encode())


def test_desc_order_is_the_exact_reverse(db: Database) -> None:
    insert_many(db, "things", [{"value": value} for value in VALUES])
    asc = db.run_query(lambda r: [d["_id"] for d in r.query("things").with_index("by_value").collect()])
    desc = db.run_query(lambda r: [d["_id"] for d in r.query("things").with_index("by_value").order("desc").collect()])
    assert desc == list(reversed(asc))


def test_range_bounds_compare_across_types(db: Database) -> None:
    insert_many(db, "things", [{"value": value} for value in VALUES])
    # every int64 is below every float64: gt(Int64 max) starts at the smallest float64
    above_ints = db.run_query(
        lambda r: r.query("things").with_index("by_value", lambda q: q.gt("value", Int64(2**63 - 1))).first()
    )
    assert above_ints is not None
    assert isinstance(above_ints["value"], float)
    assert math.isnan(above_ints["value"]) or above_ints["value"] == -math.inf
    numbers = db.run_query(
        lambda r: (
            r.query("things").with_index("by_value", lambda q: q.gte("value", -math.inf).lt("value", False)).collect()
        )
    )
    assert all(isinstance(d["value"], float) for d in numbers)
    # the 7 float64 values: -inf, -2.5, -0.0, 0.0, 1.5, inf, and NaN (positive NaN sorts after +inf)
    assert len(numbers) == 7


def test_filter_comparisons_use_the_same_order(db: Database) -> None:
    insert_many(db, "things", [{"value": value} for value in VALUES])
    small = db.run_query(lambda r: r.query("things").filter(lambda q: q.lt(q.field("value"), False)).collect())
    assert all(compare(d["value"], False) < 0 for d in small)
    assert len(small) == sum(1 for v in VALUES if compare(v, False) < 0)  # type: ignore[arg-type]
    equal_zero = db.run_query(lambda r: r.query("things").filter(lambda q: q.eq(q.field("value"), 0.0)).collect())
    assert [math.copysign(1, d["value"]) for d in equal_zero] == [1.0]  # -0.0 is a different value
    ints = db.run_query(lambda r: r.query("things").filter(lambda q: q.eq(q.field("value"), Int64(0))).collect())
    assert len(ints) == 1
