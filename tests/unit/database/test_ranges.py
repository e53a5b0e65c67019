"""Index ranges compile to the right half-open key intervals."""

from __future__ import annotations

from authlib_core.database.interface import IndexSpec
from authlib_core.database.keys import document_key
from authlib_core.database.ranges import IndexRangeBuilder, compile_range

SPEC = IndexSpec(table="t", name="by_a_b", fields=("a", "b"))


def _doc(a: object, b: object, t: float = 1.0, i: str = "id") -> dict[str, object]:
    return {"_id": i, "_creationTime": t, "a": a, "b": b}


def _inside(build, doc) -> bool:  # type: ignore[no-untyped-def]
    builder = build(IndexRangeBuilder("t.by_a_b", ("a", "b", "_creationTime")))
    key_range = compile_range(SPEC, builder.ops)
    key = document_key(doc, SPEC)  # type: ignore[arg-type]
    return key_range.lower <= key < key_range.upper


def test_eq_prefix_matches_exactly_that_value() -> None:
    eq_a = lambda q: q.eq("a", "x")  # noqa: E731
    assert _inside(eq_a, _doc("x", 1.0))
    assert _inside(eq_a, _doc("x", "anything"))
    assert not _inside(eq_a, _doc("xa", 1.0))
    assert not _inside(eq_a, _doc("w", 1.0))


def test_bounds_are_exclusive_or_inclusive_as_asked() -> None:
    gt = lambda q: q.eq("a", "x").gt("b", 2.0)  # noqa: E731
    gte = lambda q: q.eq("a", "x").gte("b", 2.0)  # noqa: E731
    lt = lambda q: q.eq("a", "x").lt("b", 2.0)  # noqa: E731
    lte = lambda q: q.eq("a", "x").lte("b", 2.0)  # noqa: E731
    assert not _inside(gt, _doc("x", 2.0))
    assert _inside(gt, _doc("x", 2.5))
    assert _inside(gte, _doc("x", 2.0))
    assert not _inside(gte, _doc("x", 1.5))
    assert not _inside(lt, _doc("x", 2.0))
    assert _inside(lt, _doc("x", 1.0))
    assert _inside(lte, _doc("x", 2.0))
    assert not _inside(lte, _doc("x", 2.5))


def test_whole_index_range_contains_every_key() -> None:
    everything = lambda q: q  # noqa: E731
    for value in (None, False, "", b"", [], {}, -1e308):
        assert _inside(everything, _doc(value, value))


def test_python_int_bound_is_a_float64() -> None:
    assert _inside(lambda q: q.eq("a", "x").eq("b", 3), _doc("x", 3.0))
