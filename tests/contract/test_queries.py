"""Queries: every index-range shape, its rejections, order, filters and terminal methods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.errors import InvalidQueryError
from authlib_core.values import UNDEFINED, Int64

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.database import Database


@pytest.fixture
def items(db: Database) -> Database:
    """Groups a/b/c with ranks 0..4 each, inserted out of order; some labelled."""

    def seed(w: Any) -> None:
        for rank in (3, 0, 4, 1, 2):
            for group in ("b", "a", "c"):
                doc: dict[str, object] = {"group": group, "rank": float(rank)}
                if rank % 2 == 0:
                    doc["label"] = f"{group}{rank}"
                w.insert("items", doc)

    db.run_mutation(seed)
    return db


def ranks(db: Database, build: Callable[[Any], Any]) -> list[tuple[str, float]]:
    return [(d["group"], d["rank"]) for d in db.run_query(lambda r: build(r.query("items")).collect())]


def test_eq_on_first_field(items: Database) -> None:
    got = ranks(items, lambda q: q.with_index("by_group_rank", lambda r: r.eq("group", "b")))
    assert got == [("b", float(i)) for i in range(5)]


def test_eq_on_every_field(items: Database) -> None:
    got = ranks(items, lambda q: q.with_index("by_group_rank", lambda r: r.eq("group", "a").eq("rank", 2.0)))
    assert got == [("a", 2.0)]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda r: r.eq("group", "a").gt("rank", 1.0), [2.0, 3.0, 4.0]),
        (lambda r: r.eq("group", "a").gte("rank", 1.0), [1.0, 2.0, 3.0, 4.0]),
        (lambda r: r.eq("group", "a").lt("rank", 3.0), [0.0, 1.0, 2.0]),
        (lambda r: r.eq("group", "a").lte("rank", 3.0), [0.0, 1.0, 2.0, 3.0]),
        (lambda r: r.eq("group", "a").gt("rank", 0.0).lt("rank", 4.0), [1.0, 2.0, 3.0]),
        (lambda r: r.eq("group", "a").gte("rank", 1.0).lte("rank", 3.0), [1.0, 2.0, 3.0]),
        (lambda r: r.eq("group", "a").gt("rank", 4.0), []),
        (lambda r: r.eq("group", "a").gt("rank", 3.0).lt("rank", 2.0), []),
    ],
)
def test_bounds_on_the_field_after_the_eq_prefix(items: Database, build: Any, expected: list[float]) -> None:
    got = ranks(items, lambda q: q.with_index("by_group_rank", build))
    assert got == [("a", r) for r in expected]


def test_range_on_the_first_field(items: Database) -> None:
    got = ranks(items, lambda q: q.with_index("by_group_rank", lambda r: r.gt("group", "a").lte("group", "b")))
    assert got == [("b", float(i)) for i in range(5)]


def test_whole_index_in_order_and_desc(items: Database) -> None:
    asc = ranks(items, lambda q: q.with_index("by_group_rank"))
    assert asc == [(g, float(i)) for g in "abc" for i in range(5)]
    desc = ranks(items, lambda q: q.with_index("by_group_rank").order("desc"))
    assert desc == list(reversed(asc))


def test_range_on_creation_time_after_the_eq_fields(items: Database) -> None:
    all_a = items.run_query(
        lambda r: r.query("items").with_index("by_group_rank", lambda q: q.eq("group", "a").eq("rank", 2.0)).collect()
    )
    created = all_a[0]["_creationTime"]
    same = items.run_query(
        lambda r: (
            r.query("items")
            .with_index("by_group_rank", lambda q: q.eq("group", "a").eq("rank", 2.0).gte("_creationTime", created))
            .collect()
        )
    )
    assert [d["_id"] for d in same] == [all_a[0]["_id"]]


def test_default_order_is_creation_time(items: Database) -> None:
    docs = items.run_query(lambda r: r.query("items").collect())
    times = [d["_creationTime"] for d in docs]
    assert times == sorted(times)
    assert len(docs) == 15
    desc = items.run_query(lambda r: r.query("items").order("desc").collect())
    assert [d["_id"] for d in desc] == [d["_id"] for d in reversed(docs)]


def test_missing_field_sorts_first_and_eq_undefined_matches_it(items: Database) -> None:
    docs = items.run_query(lambda r: r.query("items").with_index("by_label").collect())
    assert ["label" in d for d in docs[:6]] == [False] * 6
    labels = [d["label"] for d in docs[6:]]
    assert labels == sorted(labels)
    missing = items.run_query(
        lambda r: r.query("items").with_index("by_label", lambda q: q.eq("label", UNDEFINED)).collect()
    )
    assert len(missing) == 6


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda r: r.eq("rank", 1.0), "out of order"),
        (lambda r: r.gt("group", "a").eq("rank", 1.0), "after a range bound"),
        (lambda r: r.eq("group", "a").gt("rank", 1.0).gte("rank", 2.0), "two lower bounds"),
        (lambda r: r.eq("group", "a").lt("rank", 1.0).lte("rank", 2.0), "two upper bounds"),
        (lambda r: r.gt("group", "a").lt("rank", 1.0), "different field"),
        (lambda r: r.eq("group", "a").eq("rank", 1.0).eq("_creationTime", 1.0).eq("x", 1), "every field"),
        (lambda r: r.eq("group", "a").eq("_creationTime", 1.0), "out of order"),
    ],
)
def test_invalid_index_ranges_are_rejected(items: Database, build: Any, message: str) -> None:
    with pytest.raises(InvalidQueryError, match=message):
        items.run_query(lambda r: r.query("items").with_index("by_group_rank", build).collect())


def test_unknown_index_and_by_id_are_rejected(items: Database) -> None:
    with pytest.raises(InvalidQueryError, match="not found"):
        items.run_query(lambda r: r.query("items").with_index("by_nothing").collect())
    with pytest.raises(InvalidQueryError, match=r"db\.get"):
        items.run_query(lambda r: r.query("items").with_index("by_id").collect())


def test_unknown_table_in_a_query_is_rejected(items: Database) -> None:
    with pytest.raises(InvalidQueryError, match="not declared"):
        items.run_query(lambda r: r.query("nope").collect())


def test_order_twice_and_bad_order_are_rejected(items: Database) -> None:
    with pytest.raises(InvalidQueryError, match="twice"):
        items.run_query(lambda r: r.query("items").order("desc").order("asc").collect())
    with pytest.raises(InvalidQueryError, match='"asc" or "desc"'):
        items.run_query(lambda r: r.query("items").order("down").collect())


def test_filters_with_field_paths_and_boolean_logic(items: Database) -> None:
    got = ranks(
        items,
        lambda q: q.with_index("by_group_rank").filter(
            lambda f: f.and_(
                f.or_(f.eq(f.field("group"), "a"), f.eq(f.field("group"), "c")), f.not_(f.lt(f.field("rank"), 3.0))
            )
        ),
    )
    assert got == [("a", 3.0), ("a", 4.0), ("c", 3.0), ("c", 4.0)]
    neq = ranks(items, lambda q: q.with_index("by_group_rank").filter(lambda f: f.neq(f.field("group"), "b")))
    assert len(neq) == 10


def test_filters_with_arithmetic(items: Database) -> None:
    got = ranks(
        items,
        lambda q: q.with_index("by_group_rank", lambda r: r.eq("group", "a")).filter(
            lambda f: f.eq(f.mod(f.add(f.field("rank"), 1.0), 2.0), 0.0)
        ),
    )
    assert got == [("a", 1.0), ("a", 3.0)]
    got = ranks(
        items,
        lambda q: q.with_index("by_group_rank", lambda r: r.eq("group", "b")).filter(
            lambda f: f.gt(f.mul(f.neg(f.field("rank")), 2.0), f.sub(0.0, 5.0))
        ),
    )
    assert got == [("b", 0.0), ("b", 1.0), ("b", 2.0)]


def test_filter_on_missing_field_and_nested_path(db: Database) -> None:
    db.run_mutation(
        lambda w: [w.insert("things", d) for d in ({"meta": {"kind": "x"}}, {"meta": {"kind": "y"}}, {"other": 1})]
    )
    got = db.run_query(lambda r: r.query("things").filter(lambda f: f.eq(f.field("meta.kind"), "y")).collect())
    assert [d["meta"] for d in got] == [{"kind": "y"}]
    missing = db.run_query(
        lambda r: r.query("things").filter(lambda f: f.eq(f.field("meta.kind"), UNDEFINED)).collect()
    )
    assert len(missing) == 1


def test_filter_must_return_an_expression(items: Database) -> None:
    with pytest.raises(InvalidQueryError, match="filter expression"):
        items.run_query(lambda r: r.query("items").filter(lambda f: f.field("rank") == 1.0).collect())


def test_int64_arithmetic_and_type_mismatch(db: Database) -> None:
    db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0, "n": Int64(7)}))
    got = db.run_query(
        lambda r: r.query("items").filter(lambda f: f.eq(f.div(f.field("n"), Int64(2)), Int64(3))).collect()
    )
    assert len(got) == 1
    with pytest.raises(InvalidQueryError, match="two float64 values or two int64"):
        db.run_query(lambda r: r.query("items").filter(lambda f: f.eq(f.add(f.field("n"), 1.0), 8.0)).collect())


def test_take_first_unique(items: Database) -> None:
    assert len(items.run_query(lambda r: r.query("items").take(4))) == 4
    assert items.run_query(lambda r: r.query("items").take(0)) == []
    first = items.run_query(lambda r: r.query("items").with_index("by_group_rank").first())
    assert first is not None
    assert (first["group"], first["rank"]) == ("a", 0.0)
    assert (
        items.run_query(lambda r: r.query("items").with_index("by_group_rank", lambda q: q.eq("group", "z")).first())
        is None
    )
    one = items.run_query(
        lambda r: r.query("items").with_index("by_group_rank", lambda q: q.eq("group", "c").eq("rank", 4.0)).unique()
    )
    assert one is not None
    assert one["label"] == "c4"
    with pytest.raises(InvalidQueryError, match="more than one result"):
        items.run_query(lambda r: r.query("items").with_index("by_group_rank", lambda q: q.eq("group", "c")).unique())
    with pytest.raises(InvalidQueryError, match="non-negative"):
        items.run_query(lambda r: r.query("items").take(-1))


def test_queries_are_reusable_and_iterable(items: Database) -> None:
    def twice(r: Any) -> tuple[list[Any], list[Any]]:
        q = r.query("items").with_index("by_group_rank", lambda b: b.eq("group", "a"))
        return q.collect(), list(q)

    one, two = items.run_query(twice)
    assert [d["_id"] for d in one] == [d["_id"] for d in two]


def test_take_accepts_whole_floats_and_rejects_the_rest(items: Database) -> None:
    """JSON numbers (``v.number()`` arguments) arrive as floats: ``take(3.0)`` is ``take(3)``, as in Convex."""
    assert len(items.run_query(lambda r: r.query("items").take(3.0))) == 3
    assert items.run_query(lambda r: r.query("items").take(-0.0)) == []
    for bad in (2.5, -1.0, float("nan"), float("inf"), True, "3", None):
        with pytest.raises(InvalidQueryError, match="take\\(\\): n must be a non-negative whole number"):
            items.run_query(lambda r, bad=bad: r.query("items").take(bad))


def _boolean_error(type_name: str) -> str:
    return f"Cannot use value .+ \\(type {type_name}\\) as a Boolean"


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        (lambda f: f.not_(f.field("rank")), _boolean_error("Float64")),
        (lambda f: f.and_(f.eq(f.field("group"), "a"), f.field("group")), _boolean_error("String")),
        (lambda f: f.or_(f.eq(f.field("group"), "z"), f.field("missing")), _boolean_error("undefined")),
        (lambda f: f.field("rank"), _boolean_error("Float64")),
        (lambda f: f.add(f.field("rank"), 1.0), _boolean_error("Float64")),
        (lambda f: "yes", _boolean_error("String")),
    ],
)
def test_non_boolean_filter_values_raise_like_convex(items: Database, predicate: Any, message: str) -> None:
    """Convex's ``into_boolean``: boolean operators and the filter itself need booleans; nothing is dropped silently."""
    with pytest.raises(InvalidQueryError, match=message):
        items.run_query(lambda r: r.query("items").with_index("by_group_rank").filter(predicate).collect())


def test_boolean_operators_short_circuit_like_convex(items: Database) -> None:
    """``and`` stops at the first false and ``or`` at the first true, so later operands are not checked."""
    got = ranks(items, lambda q: q.with_index("by_group_rank").filter(lambda f: f.or_(True, f.field("rank"))))
    assert len(got) == 15
    got = ranks(items, lambda q: q.with_index("by_group_rank").filter(lambda f: f.and_(False, f.field("rank"))))
    assert got == []


def test_literal_filters_are_accepted(items: Database) -> None:
    assert len(ranks(items, lambda q: q.filter(lambda f: True))) == 15
    assert ranks(items, lambda q: q.filter(lambda f: False)) == []
    assert len(ranks(items, lambda q: q.filter(lambda f: f.not_(False)))) == 15


def test_python_operators_on_expressions_are_refused(items: Database) -> None:
    """``==``, ``and``, ``not`` on expressions would build a Python value, not a filter: refused with the q. method."""
    for build, method in (
        (lambda f: f.field("rank") != 1.0, "q.neq"),
        (lambda f: f.field("rank") > 1.0, "q.gt"),
        (lambda f: f.eq(f.field("rank"), 1.0) and f.eq(f.field("group"), "a"), "q.and_"),
        (lambda f: not f.eq(f.field("rank"), 1.0), "q.not_"),
    ):
        with pytest.raises(InvalidQueryError, match=method.replace(".", "\\.")):
            items.run_query(lambda r, build=build: r.query("items").filter(build).collect())
    with pytest.raises(InvalidQueryError, match="returned None"):
        items.run_query(lambda r: r.query("items").filter(lambda f: None).collect())


def test_undefined_bounds_select_documents_that_have_the_field(items: Database) -> None:
    """Convex documents ``q.gt("a", undefined)`` as "documents that have the field" (undefined sorts first)."""
    labelled = items.run_query(
        lambda r: r.query("items").with_index("by_label", lambda q: q.gt("label", UNDEFINED)).collect()
    )
    assert len(labelled) == 9
    assert all("label" in d for d in labelled)
    assert (
        len(
            items.run_query(
                lambda r: r.query("items").with_index("by_label", lambda q: q.gte("label", UNDEFINED)).collect()
            )
        )
        == 15
    )
    assert (
        items.run_query(lambda r: r.query("items").with_index("by_label", lambda q: q.lt("label", UNDEFINED)).collect())
        == []
    )
    unlabelled = items.run_query(
        lambda r: r.query("items").with_index("by_label", lambda q: q.lte("label", UNDEFINED)).collect()
    )
    assert len(unlabelled) == 6
    assert not any("label" in d for d in unlabelled)
    filtered = items.run_query(lambda r: r.query("items").filter(lambda f: f.gt(f.field("label"), UNDEFINED)).collect())
    assert sorted(d["_id"] for d in filtered) == sorted(d["_id"] for d in labelled)


def test_operator_limit_counts_filter_calls_like_convex(items: Database) -> None:
    """Convex limits a query to 256 operators (``.filter`` calls); one filter expression may be large."""

    def chained(r: Any, calls: int) -> Any:
        query = r.query("items")
        for _ in range(calls):
            query = query.filter(lambda f: f.neq(f.field("group"), "z"))
        return query.collect()

    assert len(items.run_query(lambda r: chained(r, 256))) == 15
    with pytest.raises(InvalidQueryError, match="more than 256 operators"):
        items.run_query(lambda r: chained(r, 257))

    def wide(f: Any) -> Any:
        return f.or_(*(f.eq(f.field("rank"), float(i)) for i in range(300)))

    assert len(items.run_query(lambda r: r.query("items").filter(wide).collect())) == 15
